import Foundation
import SvarDomain
import SvarRegistry
import SvarStore
import SvarTestSupport
import Testing

/// The workers' and clinicians' side of the contract: delivery, forwarding, deletion, logins, the second factor
/// and the statistics input, on every engine.
@Suite struct StoreWorkContractTests {
    @Test(arguments: StoreKind.allCases)
    func aDeliveryIsClaimedOnceAndNoChannelMakesTheInvitationUnreachable(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let (patient, invitation) = try await invited(store)
        let claimed = try await store.claimDeliveries(kinds: [.invitation], now: t0 + hour, leaseUntil: t0 + 2 * hour, limit: 10)
        #expect(claimed.map(\.invitationId) == [invitation])
        #expect(claimed.first?.unit == "4208")
        #expect(
            try await store.claimDeliveries(kinds: [.invitation], now: t0 + hour, leaseUntil: t0 + 2 * hour, limit: 10).isEmpty, "leased")
        let id = try #require(claimed.first?.id)
        try await store.moveToNextChannel(deliveryId: id, reason: "e-mail bounced", at: t0 + hour)
        let again = try await store.claimDeliveries(kinds: [.invitation], now: t0 + hour, leaseUntil: t0 + 2 * hour, limit: 10)
        #expect(again.first?.channelIndex == 1 && again.first?.failures == ["e-mail bounced"])
        try await store.markUndeliverable(deliveryId: id, reasons: ["e-mail bounced", "no mobile number"], at: t0 + hour)
        #expect(try await store.invitation(invitation)?.state == .unreachable)
        let unreachable = try await store.unreachableInvitations(in: .only(["4208"]))
        #expect(unreachable.map(\.reasons) == [["e-mail bounced", "no mobile number"]])
        #expect(try await store.unreachableInvitations(in: .only(["9999"])).isEmpty)
        #expect(try await store.outboxItem(id)?.state == .failed)
        #expect(try await store.beginSending(deliveryIds: [id], at: t0 + hour).isEmpty)
        #expect(
            try await store.invitationSummaries(in: .everyUnit, states: ["unreachable"], orVoidedLinks: false).map(\.patientId) == [patient]
        )
    }

    @Test(arguments: StoreKind.allCases)
    func aSubmissionCancelsAMessageOnlyUntilItsSendingBegins(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let (_, early) = try await invited(store)
        let (_, late) = try await invited(store, number: "02838897382")
        let claimed = try await store.claimDeliveries(kinds: [.invitation], now: t0 + hour, leaseUntil: t0 + 2 * hour, limit: 10)
        let earlyId = try #require(claimed.first { $0.invitationId == early }?.id)
        let lateId = try #require(claimed.first { $0.invitationId == late }?.id)
        func submit(_ invitation: String) async throws {
            try await store.submit(
                invitationId: invitation,
                responses: [SubmittedResponse(instrument: "eq5d-5l", instrumentVersion: "1.0.0", answersJSON: #"{"MO":1}"#, scores: [])],
                respondent: "patient", language: "nb", at: t0 + hour)
        }
        // Cancelled by the submission before the sender decided: it does not go out.
        try await submit(early)
        #expect(try await store.beginSending(deliveryIds: [earlyId, lateId], at: t0 + hour) == [lateId])
        #expect(try await store.outboxItem(earlyId)?.state == .cancelled)
        #expect(try await store.outboxItem(lateId)?.state == .sending)
        // Being sent: a submission no longer cancels it, and it is recorded as sent.
        try await submit(late)
        #expect(try await store.outboxItem(lateId)?.state == .sending)
        try await store.markSent(deliveryId: lateId, channel: "email", messageId: "m1", at: t0 + hour)
        let sent = try #require(try await store.outboxItem(lateId))
        #expect(sent.state == .sent && sent.channel == "email" && sent.messageId == "m1")
        #expect(try await store.beginSending(deliveryIds: [earlyId, lateId], at: t0 + hour).isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func claimsRunningAtOnceNeverHandOutAnItemTwice(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        for number in ["01914796756", "02838897382", "15076500565"] { _ = try await invited(store, number: number) }
        async let first = store.claimDeliveries(kinds: [.invitation], now: t0 + hour, leaseUntil: t0 + 2 * hour, limit: 2)
        async let second = store.claimDeliveries(kinds: [.invitation], now: t0 + hour, leaseUntil: t0 + 2 * hour, limit: 2)
        let ids = try await (first + second).map(\.id)
        #expect(ids.count == 3 && Set(ids).count == 3)
    }

    @Test(arguments: StoreKind.allCases)
    func aForwardIsDisclosedAndADeletionKeepsTheDisclosure(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let (patient, invitation) = try await invited(store)
        let score = StoredScore(
            key: "index", number: "0.5", flag: nil, itemsAnswered: 5, itemsInScale: 5, algorithm: "eq5d@1.0", valueSet: "no-2024")
        try await store.submit(
            invitationId: invitation,
            responses: [
                SubmittedResponse(
                    instrument: "eq5d-5l", instrumentVersion: "1.0.0",
                    answersJSON: #"{"MO":1}"#, scores: [score])
            ],
            respondent: "patient", language: "nb", at: t0 + 2 * hour)
        #expect(try await store.statisticsInput().cells.map(\.answered) == [1])
        let forward = try #require(try await store.claimForwards(now: t0 + 2 * hour, leaseUntil: t0 + 3 * hour, limit: 10).first)
        let responseId = try #require(forward.responseId)
        let response = try #require(try await store.forwardedResponse(responseId: responseId))
        #expect(response.scores == [score] && response.unit == "4208")
        try await store.recordForwarded(
            forwardId: forward.id,
            disclosure: Disclosure(
                at: t0 + 2 * hour, recipient: "registry", subject: patient, identifiedBy: "identity number", dataSet: "eq5d-5l",
                responseId: response.responseId, basis: "§ 4-7", receipt: "201"))
        let report = try await store.deletePatientData(patientId: patient, actor: "registry", at: t0 + day)
        #expect(report.state == .erasingAtRegistry && report.kept.contains { $0.hasPrefix("disclosure log: 1 response(s)") })
        #expect(try await store.readIdentity(of: patient, in: .everyUnit, actor: "t", purpose: "t", at: t0 + day) == nil)
        let erase = try #require(try await store.claimForwards(now: t0 + day, leaseUntil: t0 + day + hour, limit: 10).first)
        #expect(erase.kind == .erase)
        try await store.completeErasure(
            forwardId: erase.id, patientId: patient, report: ErasureReport(erased: ["1 response"]), at: t0 + day)
        #expect(try await store.deletionReport(patientId: patient)?.state == .done)
        #expect(try await store.disclosures(subject: patient, limit: 10).map(\.receipt) == ["201"])
        #expect(try await store.auditEntries(subject: patient).contains { $0.action == "patient.delete.registry" })
    }

    @Test(arguments: StoreKind.allCases)
    func theMaximumthLoginLocksTheNameAndATOTPStepIsUsedOnce(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        try await store.createUnit(Unit(resh: "4208", name: "Unit"), actor: "t", at: t0)
        try await store.addUser(username: "kari", passwordHash: "x", role: .behandler, units: ["4208"], totpSecret: nil, actor: "t", at: t0)
        let key: [UInt8] = Array(repeating: 7, count: 32)
        var seen: [LoginAdmission] = []
        for _ in 0..<4 { seen.append(try await store.admitLogin(nameKey: key, username: "kari", at: t0, maximum: 3, lock: 900)) }
        #expect(seen == [.admitted, .admitted, .lastBeforeLock, .locked])
        #expect(try await store.recordLoginSuccess(username: "kari", nameKey: key, totpStep: 5, at: t0))
        #expect(try await !store.recordLoginSuccess(username: "kari", nameKey: key, totpStep: 5, at: t0), "a replayed code")
        try await store.createSession(tokenHash: key, username: "kari", csrf: "c", at: t0)
        #expect(try await store.liveSession(tokenHash: key, now: t0 + 60, idle: 600, absolute: 3600)?.username == "kari")
        try await store.disableUser(username: "kari", actor: "t", at: t0 + 120)
        #expect(try await store.liveSession(tokenHash: key, now: t0 + 180, idle: 600, absolute: 3600) == nil)
        #expect(try await store.user("kari")?.disabledAt == t0 + 120)
    }

    @Test(arguments: StoreKind.allCases)
    func wrongSecondFactorAnswersLockThenVoidTheLink(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let (_, invitation) = try await invited(store)
        var policy = FactorPolicy()
        policy.maximumFailures = 2
        policy.locksBeforeVoid = 2
        func attempt(_ at: Date) async throws -> FactorState {
            try await store.attemptFactor(invitationId: invitation, at: at, policy: policy, readsIdentity: false) { _ in false }
        }
        #expect(try await attempt(t0) == .wrong)
        #expect(try await attempt(t0) == .locked(until: t0 + policy.lock))
        #expect(try await attempt(t0 + 60) == .locked(until: t0 + policy.lock))
        #expect(try await attempt(t0 + policy.lock) == .wrong)
        #expect(try await attempt(t0 + policy.lock) == .voided)
        try await store.restoreFactor(invitationId: invitation, actor: "clinician", at: t0 + day)
        #expect(try await store.factorState(invitationId: invitation, now: t0 + day) == .open)
        try await store.issueCode(
            invitationId: invitation, codeHash: [1, 2, 3], expiresAt: t0 + day + 600, payload: OutboxPayload(), at: t0 + day)
        #expect(try await store.currentCode(invitationId: invitation, now: t0 + day) == [1, 2, 3])
        #expect(
            try await store.attemptFactor(invitationId: invitation, at: t0 + day, policy: policy, readsIdentity: false) {
                $0.codeHash == [1, 2, 3]
            } == .passed)
        #expect(try await store.currentCode(invitationId: invitation, now: t0 + day) == nil, "a code is good once")
    }
}
