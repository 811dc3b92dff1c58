import Foundation
import SvarDelivery
import SvarDomain
import SvarServices
import SvarStore
import SvarTestSupport
import Testing

@Suite struct DeliveryPassTests {
    @Test(arguments: StoreKind.engines)
    func aQueuedInvitationGoesOutOnceWithAWorkingLinkAndTheIdentityReadIsAudited(_ kind: StoreKind) async throws {
        let f = try await DeliveryFixture.make(kind)
        let folder = temporaryFolder("mailbox")
        defer { try? FileManager.default.removeItem(at: folder) }
        let pass = try f.pass([FileMailbox(directory: folder, from: "svar@svar.test")])
        var expected = DeliveryPass.Report()
        expected.sent = 1
        #expect(try await pass.run(now: t0) == expected)
        #expect(try await pass.run(now: t0 + 60) == DeliveryPass.Report(), "a second pass must not send again")
        let mails = emlFiles(folder)
        try #require(mails.count == 1)
        let body = decodeQuotedPrintable(mails[0])
        #expect(mails[0].contains("To: kari@example.no"))
        #expect(body.contains("til og med 22. desember 2026 kl. 08:59"), "closing time: \(body)")
        #expect(!body.contains("01914796756") && !body.contains("Unit"), "a message must not carry identity or unit")
        let link = try #require(body.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("\(publicURL)/a/") })
        let token = try f.links.verify(String(link.dropFirst("\(publicURL)/a/".count)), now: t0)
        #expect(token.invitationId.uuidString.lowercased() == f.invitationId)
        let item = try #require(try await f.items("invitation").first)
        #expect(item.state == .sent && item.channel == "email" && item.messageId == "<\(item.id).0.1@svar.test>")
        #expect(try await f.store.auditEntries(subject: f.patientId).contains { $0.actor == "outbox" && $0.action == "identity.read" })
    }

    @Test(arguments: StoreKind.engines)
    func anInvitationGoesToTheContactDetailsItsOwnUnitRegistered(_ kind: StoreKind) async throws {
        let f = try await DeliveryFixture.make(kind)  // registered through the installation's token: the vault's record
        try await f.store.createUnit(Unit(resh: "4209", name: "Other"), actor: "test", at: t0)
        let enrolment = Enrolment(store: f.store, vault: f.vault, mode: .test)
        #expect(
            try await enrolment.enrol(.init(identityNumber: "01914796756", email: "kari@b.example"), units: ["4209"], actor: "b", at: t0)
                == .existing(f.patientId))
        try await f.store.createCourse(NewCourse(id: "course-b", patientId: f.patientId, unit: "4209", type: .D01), actor: "b", at: t0)
        let event = PathwayEvent(id: "start-b", type: .start, date: OsloTime.date(of: t0), unit: "4209", recordedBy: "b")
        let plan = ScheduleProtocol.Plan(
            milestone: "baseline", instruments: ["eq5d-5l"], triggerEventId: event.id, dueDate: OsloTime.date(of: t0),
            opensAt: t0, closesAt: t0 + 21 * day, reminders: [])
        _ = try await f.store.recordEvent(courseId: "course-b", event: event, restartingNudges: [], at: t0) { _, _ in [plan] }
        _ = try await f.store.openDue(now: t0, limit: 10)
        let folder = temporaryFolder("mailbox")
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try await f.pass([FileMailbox(directory: folder, from: "svar@svar.test")]).run(now: t0)
        let recipients = emlFiles(folder).compactMap { mail in mail.split(separator: "\r\n").first { $0.hasPrefix("To: ") } }.sorted()
        #expect(recipients == ["To: kari@b.example", "To: kari@example.no"], "each unit's invitation to its own record: \(recipients)")
    }

    @Test(arguments: StoreKind.engines)
    func completingTheQuestionnaireWhileItsReminderIsQueuedMeansTheReminderIsNotSent(_ kind: StoreKind) async throws {
        let f = try await DeliveryFixture.make(kind)
        let folder = temporaryFolder("mailbox")
        defer { try? FileManager.default.removeItem(at: folder) }
        let pass = try f.pass([FileMailbox(directory: folder, from: "svar@svar.test")])
        _ = try await pass.run(now: t0)
        #expect(try await f.store.remindDue(now: t0 + 7 * day, limit: 10) == 1)
        #expect(try await f.items("reminder").map(\.state) == [.queued])
        try await f.store.submit(invitationId: f.invitationId, responses: [], respondent: "patient", language: "nb", at: t0 + 7 * day + 60)
        #expect(try await pass.run(now: t0 + 7 * day + 120).sent == 0)
        #expect(try await f.items("reminder").map(\.state) == [.cancelled])
        #expect(emlFiles(folder).count == 1, "only the invitation went out")
    }

    /// The race the row settles: a submission that commits while the reminder is already going out cannot
    /// cancel it behind the sender's back — the record says what happened (sent), and the questionnaire is
    /// completed. (Before, the row ended `cancelled` while the message went out.)
    @Test(arguments: StoreKind.engines)
    func aSubmissionDuringTheSendLeavesTheRecordTrue(_ kind: StoreKind) async throws {
        let f = try await DeliveryFixture.make(kind)
        let folder = temporaryFolder("mailbox")
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try await f.pass([FileMailbox(directory: folder, from: "svar@svar.test")]).run(now: t0)
        #expect(try await f.store.remindDue(now: t0 + 7 * day, limit: 10) == 1)
        let submitting = SubmitsWhileDelivering(
            inner: FileMailbox(directory: folder, from: "svar@svar.test"), store: f.store,
            invitationId: f.invitationId, at: t0 + 7 * day + 61)
        #expect(try await f.pass([submitting]).run(now: t0 + 7 * day + 60).sent == 1)
        #expect(try await f.items("reminder").map(\.state) == [.sent], "the reminder went out, and the row says so")
        #expect(try await f.store.invitation(f.invitationId)?.state == .completed)
    }

    @Test(arguments: StoreKind.engines)
    func aReservedPatientReceivesNothingWhateverIsQueued(_ kind: StoreKind) async throws {
        let f = try await DeliveryFixture.make(kind)
        let folder = temporaryFolder("mailbox")
        defer { try? FileManager.default.removeItem(at: folder) }
        // Reserved behind the outbox's back (as if the reservation raced the queueing): the pass must still refuse.
        try await f.store.execute(rawSQL: "UPDATE patients SET reserved_at = 1 WHERE id = '\(f.patientId)'")
        let report = try await f.pass([FileMailbox(directory: folder, from: "svar@svar.test")]).run(now: t0)
        #expect(report.sent == 0)
        #expect(emlFiles(folder).isEmpty)
        #expect(try await f.items("invitation").map(\.state) == [.cancelled])
    }

    @Test(arguments: StoreKind.engines)
    func withNoUsableChannelTheInvitationBecomesUnreachableWithTheReasons(_ kind: StoreKind) async throws {
        let f = try await DeliveryFixture.make(kind, email: nil, mobile: "+4791234567")
        let folder = temporaryFolder("mailbox")
        defer { try? FileManager.default.removeItem(at: folder) }
        let report = try await f.pass([FileMailbox(directory: folder, from: "svar@svar.test")]).run(now: t0)
        #expect(report.undeliverable == 1 && report.sent == 0)
        #expect(try await f.store.invitation(f.invitationId)?.state == .unreachable)
        let listed = try await f.store.unreachableInvitations(in: .only(["4208"]))
        #expect(listed.map(\.invitationId) == [f.invitationId])
        #expect(listed.first?.reasons == ["sms: not configured in this installation", "email: no e-mail address on record"])
        #expect(try await f.store.unreachableInvitations(in: .only(["9999"])).isEmpty, "limited to the units asked for")
    }

    @Test(arguments: StoreKind.engines)
    func transientFailuresRetryWithBackoffThenGiveUpOnTheChannel(_ kind: StoreKind) async throws {
        let f = try await DeliveryFixture.make(kind)
        // A file where the mailbox folder should be: every write fails, transiently.
        let blocker = temporaryFolder("blocker")
        try Data("x".utf8).write(to: blocker)
        defer { try? FileManager.default.removeItem(at: blocker) }
        var policy = DeliveryPolicy()
        policy.attemptsPerChannel = 3
        let pass = try f.pass([FileMailbox(directory: blocker, from: "svar@svar.test")], policy: policy)
        #expect(try await pass.run(now: t0).retrying == 1)
        // Not due again before the backoff (attempt 1: 45 s with random 0.5) has passed.
        #expect(try await pass.run(now: t0 + 30) == DeliveryPass.Report())
        #expect(try await pass.run(now: t0 + 45).retrying == 1)
        #expect(try await f.items("invitation").first?.attempts == 2)
        let last = try await pass.run(now: t0 + 45 + 90)
        #expect(last.undeliverable == 1)
        let item = try #require(try await f.items("invitation").first)
        #expect(item.state == .failed && item.failures.count == 2)
        #expect(item.failures.first?.hasPrefix("email: gave up after 3 attempts") == true, "\(item.failures)")
        #expect(try await f.store.invitation(f.invitationId)?.state == .unreachable)
    }

    @Test(arguments: StoreKind.engines)
    func anItemThatCannotBePreparedWaitsWithoutHoldingUpTheOthers(_ kind: StoreKind) async throws {
        let f = try await DeliveryFixture.make(kind)
        let folder = temporaryFolder("mailbox")
        defer { try? FileManager.default.removeItem(at: folder) }
        // The window closed a moment ago but the scheduler has not expired it yet: no link can be issued.
        try await f.store.execute(
            rawSQL: "UPDATE invitations SET closes_at = \(Int(t0.timeIntervalSince1970) - 1) WHERE id = '\(f.invitationId)'")
        try await f.store.issueCode(
            invitationId: f.invitationId, codeHash: [1], expiresAt: t0 + 900,
            payload: OutboxPayload(invitation: f.invitationId, code: "111222"), at: t0)
        let report = try await f.pass([FileMailbox(directory: folder, from: "svar@svar.test")]).run(now: t0)
        #expect(report.retrying == 1 && report.sent == 1, "\(report)")
        #expect(try await f.items("invitation").first?.state == .queued)
        #expect(emlFiles(folder).count == 1)
    }

    @Test(arguments: StoreKind.engines)
    func aOneTimeCodeIsSentAndThenNoLongerKept(_ kind: StoreKind) async throws {
        let f = try await DeliveryFixture.make(kind)
        let folder = temporaryFolder("mailbox")
        defer { try? FileManager.default.removeItem(at: folder) }
        let pass = try f.pass([FileMailbox(directory: folder, from: "svar@svar.test")])
        _ = try await pass.run(now: t0)
        try await f.store.issueCode(
            invitationId: f.invitationId, codeHash: [1, 2, 3], expiresAt: t0 + 900,
            payload: OutboxPayload(invitation: f.invitationId, code: "493817"), at: t0 + 10)
        #expect(try await pass.run(now: t0 + 20).sent == 1)
        #expect(emlFiles(folder).contains { decodeQuotedPrintable($0).contains("Engangskoden din er 493817") })
        let code = try #require(try await f.items("code").first)
        #expect(code.state == .sent)
        #expect(try await f.store.outboxPayload(id: code.id) == "{}")
    }
}

/// A notifier that, while its messages go out, lets the patient submit the questionnaire.
struct SubmitsWhileDelivering: Notifier {
    let inner: FileMailbox
    let store: any Store
    let invitationId: String
    let at: Date
    var channel: Channel { inner.channel }

    func deliver(_ messages: [OutgoingMessage]) async -> [DeliveryOutcome] {
        do {
            try await store.submit(invitationId: invitationId, responses: [], respondent: "patient", language: "nb", at: at)
        } catch {
            Issue.record("the submission failed: \(error)")
        }
        return await inner.deliver(messages)
    }
}
