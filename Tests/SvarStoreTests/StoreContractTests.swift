import Foundation
import SvarDomain
import SvarServices
import SvarStore
import SvarTestSupport
import Testing

let t0 = OsloTime.instant(LocalDate(iso: "2026-01-05")!, hour: 8)
let vault = try! IdentityVault(masterKey: Array(repeating: 3, count: 32))

func enrol(_ store: any Store, number: String = "01914796756", language: String = "nb") async throws -> String {
    let id = UUID().uuidString.lowercased()
    let result = try await store.enrolPatient(
        PatientEnrolment(
            id: id, language: language, lookupHash: vault.lookupHash(identityNumber: number),
            sealedIdentity: try vault.seal(Identity(identityNumber: number, name: "Test"), patientId: id)), actor: "test", at: t0)
    switch result {
    case .created(let id), .existing(let id): return id
    }
}

/// A plan as a protocol would make it, with explicit times.
func plan(_ milestone: String, trigger: String, opens: Date, closes: Date, reminders: [Date] = []) -> ScheduleProtocol.Plan {
    ScheduleProtocol.Plan(
        milestone: milestone, instruments: ["eq5d-5l"], triggerEventId: trigger,
        dueDate: OsloTime.date(of: opens), opensAt: opens, closesAt: closes, reminders: reminders)
}

func startCourse(_ store: any Store, patient: String, plans: [ScheduleProtocol.Plan] = []) async throws -> (course: String, event: String) {
    try? await store.createUnit(Unit(resh: "4208", name: "Unit"), actor: "test", at: t0)
    let courseId = UUID().uuidString.lowercased()
    try await store.createCourse(NewCourse(id: courseId, patientId: patient, unit: "4208", type: .D01), actor: "test", at: t0)
    let event = PathwayEvent(id: "start-\(courseId)", type: .start, date: LocalDate(iso: "2026-01-05")!, unit: "4208", recordedBy: "test")
    let thePlans = plans.map {
        ScheduleProtocol.Plan(
            milestone: $0.milestone, instruments: $0.instruments, triggerEventId: event.id,
            dueDate: $0.dueDate, opensAt: $0.opensAt, closesAt: $0.closesAt, reminders: $0.reminders)
    }
    _ = try await store.recordEvent(courseId: courseId, event: event, restartingNudges: ["evaluation"], at: t0) { _, _ in thePlans }
    return (courseId, event.id)
}

let hour: TimeInterval = 3600
let day: TimeInterval = 86_400

/// Every Store implementation must pass these: `StoreKind.allCases`, PostgreSQL included when
/// `SVAR_TEST_POSTGRES_URL` is set.
@Suite struct StoreContractTests {
    @Test(arguments: StoreKind.allCases)
    func aUsersPageLanguageIsRememberedAndCanBeForgotten(kind: StoreKind) async throws {
        let store = try await kind.make()
        try await store.addUser(username: "kari", passwordHash: "x", role: .behandler, units: [], totpSecret: nil, actor: "test", at: t0)
        #expect(try await store.user("kari")?.language == nil)
        try await store.setLanguage(username: "kari", language: "nn", at: t0)
        #expect(try await store.user("kari")?.language == "nn")
        try await store.setLanguage(username: "kari", language: nil, at: t0)
        #expect(try await store.user("kari")?.language == nil)
        await #expect(throws: StoreError.self) { try await store.setLanguage(username: "nobody", language: "en", at: t0) }
        await #expect(throws: (any Error).self) { try await store.setLanguage(username: "kari", language: "de", at: t0) }
    }

    @Test(arguments: StoreKind.allCases)
    func unitsAreUniqueByRESH(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        try await store.createUnit(Unit(resh: "4208", name: "A"), actor: "t", at: t0)
        await #expect(throws: StoreError.self) { try await store.createUnit(Unit(resh: "4208", name: "B"), actor: "t", at: t0) }
        await #expect(throws: StoreError.notFound(what: "parent unit", id: "1")) {
            try await store.createUnit(Unit(resh: "4300", name: "C", parent: "1"), actor: "t", at: t0)
        }
        #expect(try await store.units().map(\.name) == ["A"])
    }

    @Test(arguments: StoreKind.allCases)
    func aPatientIsFoundByTheKeyedHashNotEnrolledTwice(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let first = try await enrol(store)
        let second = try await enrol(store)
        #expect(first == second)
        let other = try await enrol(store, number: "02838897382")
        #expect(other != first)
        #expect(try await store.patient(first)?.language == "nb")
    }

    @Test(arguments: StoreKind.allCases)
    func readingTheIdentityIsAudited(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let id = try await enrol(store)
        let sealed = try #require(
            try await store.readIdentity(of: id, in: .everyUnit, actor: "clinician-1", purpose: "view patient", at: t0))
        #expect(try vault.open(sealed, patientId: id).identityNumber == "01914796756")
        #expect(throws: (any Error).self) { try vault.open(sealed, patientId: "another-patient") }
        let audit = try await store.auditEntries(subject: id)
        #expect(audit.map(\.action) == ["patient.enrol", "identity.read"])
        #expect(audit.last?.actor == "clinician-1")
    }

    @Test(arguments: StoreKind.allCases)
    func eachUnitSeesTheIdentityAsItRegisteredIt(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let enrolment = Enrolment(store: store, vault: vault, mode: .test)
        for resh in ["4208", "4209"] { try await store.createUnit(Unit(resh: resh, name: resh), actor: "t", at: t0) }
        let first = try await enrolment.enrol(
            .init(identityNumber: "01914796756", name: "Kari A", email: "kari@a.example"),
            units: ["4208"], actor: "a", at: t0)
        guard case .created(let id) = first else {
            Issue.record("a new number is created")
            return
        }
        try await store.createCourse(NewCourse(id: "c-a", patientId: id, unit: "4208", type: .D01), actor: "a", at: t0)
        // Unit 4209 registers the same number with what it typed: it gets the same patient, and its own record.
        let second = try await enrolment.enrol(
            .init(identityNumber: "01914796756", name: "Kari B"), units: ["4209"], actor: "b", at: t0 + 60)
        #expect(second == .existing(id))
        #expect(
            try await store.readIdentity(of: id, in: .only(["4209"]), actor: "b", purpose: "t", at: t0) == nil,
            "no course at 4209 yet: nothing to see")
        try await store.createCourse(NewCourse(id: "c-b", patientId: id, unit: "4209", type: .D01), actor: "b", at: t0 + 60)
        func identity(_ scope: Scope) async throws -> Identity? {
            try await store.readIdentity(of: id, in: scope, actor: "t", purpose: "t", at: t0 + 120).map {
                try vault.open($0, patientId: id)
            }
        }
        #expect(try await identity(.only(["4209"])) == Identity(identityNumber: "01914796756", name: "Kari B"), "not 4208's name or e-mail")
        #expect(try await identity(.only(["4208"])) == Identity(identityNumber: "01914796756", name: "Kari A", email: "kari@a.example"))
        #expect(try await identity(.everyUnit)?.name == "Kari A", "the vault keeps the first registration")
        // Registering again at 4209: typed fields replace 4209's, empty ones keep them; 4208's record is untouched.
        _ = try await enrolment.enrol(.init(identityNumber: "01914796756", mobile: "91234567"), units: ["4209"], actor: "b", at: t0 + 180)
        #expect(try await identity(.only(["4209"])) == Identity(identityNumber: "01914796756", name: "Kari B", mobile: "+4791234567"))
        #expect(try await identity(.only(["4208"]))?.mobile == nil)
        // A scope over both units sees the most recently changed record.
        #expect(try await identity(.only(["4208", "4209"]))?.name == "Kari B")
        #expect(
            try await store.auditEntries(subject: id).filter { $0.action == "identity.register" }.map(\.detail) == [
                "unit 4209", "unit 4209",
            ])
        // A transfer hands the sending unit's record to the receiving unit.
        try await store.createUnit(Unit(resh: "4300", name: "4300"), actor: "t", at: t0)
        let transfer = PathwayEvent(id: "transfer-b", type: .transfer, date: LocalDate(iso: "2026-01-06")!, unit: "4300", recordedBy: "b")
        _ = try await store.recordEvent(courseId: "c-b", event: transfer, restartingNudges: [], at: t0 + 200) { _, _ in [] }
        #expect(try await identity(.only(["4300"]))?.name == "Kari B")
        // Deletion erases every unit's record with the vault's.
        _ = try await store.deletePatientData(patientId: id, actor: "registry", at: t0 + 240)
        #expect(try await identity(.only(["4209"])) == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func coursesNeedAKnownPatientAndUnit(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let patient = try await enrol(store)
        await #expect(throws: StoreError.notFound(what: "unit", id: "9")) {
            try await store.createCourse(NewCourse(id: "c", patientId: patient, unit: "9", type: .D01), actor: "t", at: t0)
        }
        try await store.createUnit(Unit(resh: "9", name: "U"), actor: "t", at: t0)
        await #expect(throws: StoreError.notFound(what: "patient", id: "p")) {
            try await store.createCourse(NewCourse(id: "c", patientId: "p", unit: "9", type: .D01), actor: "t", at: t0)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aRefusedEventWritesNothing(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let patient = try await enrol(store)
        let (course, _) = try await startCourse(store, patient: patient)
        let before = try await store.course(course)
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            _ = try await store.recordEvent(
                courseId: course,
                event: PathwayEvent(
                    id: "e2", type: .evaluation, date: LocalDate(iso: "2026-02-01")!,
                    unit: "4208", recordedBy: "t"), restartingNudges: ["evaluation"], at: t0
            ) { _, _ in throw Refused() }
        }
        #expect(try await store.course(course) == before)
    }

    @Test(arguments: StoreKind.allCases)
    func theSameTriggerNeverCreatesTwoInvitations(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let patient = try await enrol(store)
        let p = plan("baseline", trigger: "x", opens: t0 + hour, closes: t0 + 21 * day, reminders: [t0 + 7 * day])
        let (course, event) = try await startCourse(store, patient: patient, plans: [p, p])
        let record = try #require(try await store.course(course))
        #expect(record.invitations.count == 1)
        #expect(record.invitations.first?.triggerEventId == event)
        #expect(record.invitations.first?.reminders.count == 1)
    }

    @Test(arguments: StoreKind.allCases)
    func tickPassesInviteRemindAndExpireExactlyOnce(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let patient = try await enrol(store)
        let p = plan("baseline", trigger: "x", opens: t0 + hour, closes: t0 + 21 * day, reminders: [t0 + 7 * day, t0 + 18 * day])
        let (course, _) = try await startCourse(store, patient: patient, plans: [p])
        #expect(try await store.openDue(now: t0, limit: 10).invited == 0)  // not yet open
        #expect(try await store.openDue(now: t0 + 2 * hour, limit: 10).invited == 1)
        #expect(try await store.openDue(now: t0 + 2 * hour, limit: 10).invited == 0)  // twice at the same instant: nothing new
        #expect(try await store.remindDue(now: t0 + 8 * day, limit: 10) == 1)
        #expect(try await store.remindDue(now: t0 + 8 * day, limit: 10) == 0)
        #expect(try await store.remindDue(now: t0 + 19 * day, limit: 10) == 1)
        #expect(try await store.expireDue(now: t0 + 21 * day, limit: 10) == 1)
        #expect(try await store.expireDue(now: t0 + 22 * day, limit: 10) == 0)
        let invitation = try #require(try await store.course(course)?.invitations.first)
        #expect(invitation.state == .expired)
        #expect(invitation.remindersSent == 2)
        #expect(invitation.history.map(\.to) == [.scheduled, .invited, .reminded, .reminded, .expired])
        let outbox = try await store.outbox(patientId: patient)
        #expect(outbox.map(\.kind.rawValue).sorted() == ["invitation", "reminder", "reminder"])
        #expect(Set(outbox.map(\.idempotencyKey)).count == 3)
    }

    @Test(arguments: StoreKind.allCases)
    func twoRemindersDueInOnePassAreBothSentEachWithItsHistory(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let patient = try await enrol(store)
        let p = plan("baseline", trigger: "x", opens: t0 + hour, closes: t0 + 21 * day, reminders: [t0 + 7 * day, t0 + 8 * day])
        let (course, _) = try await startCourse(store, patient: patient, plans: [p])
        #expect(try await store.openDue(now: t0 + 2 * hour, limit: 10).invited == 1)
        let opened = try #require(try await store.course(course)?.invitations.first?.history.last)
        #expect([opened.from, opened.to] == [.scheduled, .invited])
        #expect(opened.cause == "the answer window opened" && opened.actor == "scheduler" && opened.at == t0 + 2 * hour)
        #expect(try await store.remindDue(now: t0 + 9 * day, limit: 10) == 2)
        let invitation = try #require(try await store.course(course)?.invitations.first)
        #expect(invitation.state == .reminded && invitation.remindersSent == 2)
        #expect(invitation.history.suffix(2).map { [$0.from, $0.to] } == [[.invited, .reminded], [.reminded, .reminded]])
        #expect(invitation.history.suffix(2).map(\.cause) == ["reminder 1", "reminder 2"])
        #expect(invitation.reminders.allSatisfy { $0.state == .sent })
        let outbox = try await store.outbox(patientId: patient)
        #expect(
            outbox.map(\.idempotencyKey).sorted() == [
                "invitation:\(invitation.id)", "reminder:\(invitation.id):1", "reminder:\(invitation.id):2",
            ])
        #expect(outbox.allSatisfy { $0.state == .queued && $0.invitationId == invitation.id })
    }

    @Test(arguments: StoreKind.allCases)
    func aLateOpeningDropsOverdueReminders(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let patient = try await enrol(store)
        let p = plan("baseline", trigger: "x", opens: t0, closes: t0 + 21 * day, reminders: [t0 + 7 * day, t0 + 18 * day])
        _ = try await startCourse(store, patient: patient, plans: [p])
        let opened = try await store.openDue(now: t0 + 10 * day, limit: 10)
        #expect(opened.invited == 1 && opened.staleRemindersCancelled == 1)
        #expect(try await store.remindDue(now: t0 + 10 * day, limit: 10) == 0)
        #expect(try await store.remindDue(now: t0 + 19 * day, limit: 10) == 1)
    }

    @Test(arguments: StoreKind.allCases)
    func aWindowThatClosedBeforeItWasOpenedExpiresWithoutAnInvitation(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let patient = try await enrol(store)
        _ = try await startCourse(store, patient: patient, plans: [plan("baseline", trigger: "x", opens: t0, closes: t0 + day)])
        #expect(try await store.expireDue(now: t0 + 2 * day, limit: 10) == 1)
        #expect(try await store.openDue(now: t0 + 2 * day, limit: 10).invited == 0)
        #expect(try await store.outbox(patientId: patient).isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func reservationCancelsEverythingPendingAndLeavesATombstone(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let patient = try await enrol(store)
        let plans = [
            plan("baseline", trigger: "x", opens: t0, closes: t0 + 21 * day, reminders: [t0 + 7 * day]),
            plan("followUp1y", trigger: "x", opens: t0 + 300 * day, closes: t0 + 400 * day),
        ]
        let (course, _) = try await startCourse(store, patient: patient, plans: plans)
        #expect(try await store.openDue(now: t0 + hour, limit: 10).invited == 1)  // one notification queued
        #expect(try await store.reserve(patientId: patient, actor: "t", at: t0 + 2 * hour) == 2)
        let record = try #require(try await store.course(course))
        #expect(record.invitations.allSatisfy { $0.state == .cancelled && $0.cancelReason == .reservation })
        #expect(record.invitations.flatMap(\.reminders).allSatisfy { $0.state == .cancelled })
        #expect(try await store.outbox(patientId: patient).allSatisfy { $0.state == .cancelled })
        #expect(try await store.isTombstoned(lookupHash: vault.lookupHash(identityNumber: "01914796756")))
        #expect(try await store.openDue(now: t0 + 400 * day, limit: 10).invited == 0)
        #expect(try await store.remindDue(now: t0 + 400 * day, limit: 10) == 0)
        #expect(try await store.patient(patient)?.isReserved == true)
    }

    @Test(arguments: StoreKind.allCases)
    func nudgesAreRaisedOncePerOverdueCourse(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let patient = try await enrol(store)
        _ = try await startCourse(store, patient: patient)
        let today = LocalDate(iso: "2026-05-01")!
        #expect(try await store.raiseNudges(milestone: "evaluation", afterDays: 90, today: today, at: t0) == 1)
        #expect(try await store.raiseNudges(milestone: "evaluation", afterDays: 90, today: today, at: t0) == 0)
        let nudge = try #require(try await store.nudges().first)
        #expect(nudge.dueDate == LocalDate(iso: "2026-04-05") && nudge.patientId == patient && nudge.unit == "4208")
    }

    @Test(arguments: StoreKind.allCases)
    func anEvaluationResolvesTheNudgeAndTheNinetyDaysStartAgain(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let (course, _) = try await startCourse(store, patient: try await enrol(store))
        _ = try await store.raiseNudges(milestone: "evaluation", afterDays: 90, today: LocalDate(iso: "2026-05-01")!, at: t0)
        let evaluation = PathwayEvent(
            id: "eval-1", type: .evaluation, date: LocalDate(iso: "2026-05-02")!, unit: "4208", recordedBy: "test")
        _ = try await store.recordEvent(courseId: course, event: evaluation, restartingNudges: ["evaluation"], at: t0 + 120 * day) { _, _ in
            []
        }
        #expect(try await store.nudges().isEmpty, "the evaluation came: nothing to nudge about")
        let early = LocalDate(iso: "2026-07-30")!
        let due = LocalDate(iso: "2026-07-31")!
        #expect(try await store.raiseNudges(milestone: "evaluation", afterDays: 90, today: early, at: t0) == 0)
        #expect(try await store.raiseNudges(milestone: "evaluation", afterDays: 90, today: due, at: t0) == 1)
        #expect(try await store.nudges().map(\.dueDate) == [due])
    }

    @Test(arguments: StoreKind.allCases)
    func aBackDatedEventBehindTheWatermarkStillGetsItsNudge(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let (course, _) = try await startCourse(store, patient: try await enrol(store))
        #expect(try await store.raiseNudges(milestone: "evaluation", afterDays: 90, today: LocalDate(iso: "2026-05-01")!, at: t0) == 1)
        // Recorded in September, dated January: the new count (from 20 January) is already behind the pass of May.
        let late = PathwayEvent(id: "eval-late", type: .evaluation, date: LocalDate(iso: "2026-01-20")!, unit: "4208", recordedBy: "test")
        _ = try await store.recordEvent(courseId: course, event: late, restartingNudges: ["evaluation"], at: t0 + 240 * day) { _, _ in [] }
        #expect(try await store.nudges().isEmpty)
        #expect(try await store.raiseNudges(milestone: "evaluation", afterDays: 90, today: LocalDate(iso: "2026-09-01")!, at: t0) == 1)
        #expect(try await store.nudges().map(\.dueDate) == [LocalDate(iso: "2026-04-20")!])
        #expect(try await store.raiseNudges(milestone: "evaluation", afterDays: 90, today: LocalDate(iso: "2026-09-02")!, at: t0) == 0)
    }

    @Test(arguments: StoreKind.allCases)
    func aChangedRuleCountsAgainWithoutRaisingANudgeTwice(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        _ = try await startCourse(store, patient: try await enrol(store))
        #expect(try await store.prepareNudges(milestone: "evaluation", countsFrom: [.start]) == 1)
        #expect(try await store.raiseNudges(milestone: "evaluation", afterDays: 90, today: LocalDate(iso: "2026-05-01")!, at: t0) == 1)
        // The protocol now also counts from evaluations: the counts are rebuilt and the pass looks at all again.
        #expect(try await store.prepareNudges(milestone: "evaluation", countsFrom: [.start, .evaluation]) == 1)
        #expect(try await store.raiseNudges(milestone: "evaluation", afterDays: 90, today: LocalDate(iso: "2026-05-01")!, at: t0) == 0)
        #expect(try await store.nudges().count == 1)
    }

    @Test(arguments: StoreKind.allCases)
    func aReservedPatientsCourseGetsNoNudge(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let reserved = try await enrol(store, number: "01914796756")
        let (reservedCourse, _) = try await startCourse(store, patient: reserved)
        _ = try await store.reserve(patientId: reserved, actor: "t", at: t0)
        let (other, _) = try await startCourse(store, patient: try await enrol(store, number: "15076500565"))
        let today = LocalDate(iso: "2026-05-01")!
        #expect(try await store.raiseNudges(milestone: "evaluation", afterDays: 90, today: today, at: t0) == 1)
        #expect(try await store.raiseNudges(milestone: "evaluation", afterDays: 90, today: today, at: t0) == 0)
        #expect(try await store.nudges().map(\.courseId) == [other])
        #expect(reservedCourse != other)
    }

    @Test(arguments: StoreKind.allCases)
    func linksAreRecordedOnlyForOpenInvitations(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let patient = try await enrol(store)
        let (course, _) = try await startCourse(
            store, patient: patient, plans: [plan("baseline", trigger: "x", opens: t0, closes: t0 + day)])
        let invitation = try #require(try await store.course(course)?.invitations.first)
        try await store.addLink(
            invitationId: invitation.id, nonceHash: Array(repeating: 1, count: 32), expiresAt: t0 + day, actor: "t", at: t0)
        _ = try await store.expireDue(now: t0 + 2 * day, limit: 10)
        await #expect(throws: StoreError.self) {
            try await store.addLink(
                invitationId: invitation.id, nonceHash: Array(repeating: 2, count: 32), expiresAt: t0 + day, actor: "t", at: t0)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aLinkOpensOnlyItsOwnInvitation(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let patient = try await enrol(store, language: "nn")
        let plans = [
            plan("baseline", trigger: "x", opens: t0, closes: t0 + day), plan("end", trigger: "x", opens: t0, closes: t0 + 2 * day),
        ]
        let (course, _) = try await startCourse(store, patient: patient, plans: plans)
        let invitations = try #require(try await store.course(course)?.invitations)
        #expect(invitations.count == 2)
        let nonce = Array(repeating: UInt8(5), count: 32)
        try await store.addLink(invitationId: invitations[0].id, nonceHash: nonce, expiresAt: t0 + day, actor: "t", at: t0)
        let lookup = try #require(try await store.lookUpLink(invitationId: invitations[0].id, nonceHash: nonce))
        #expect(
            lookup.invitation
                == LinkedInvitation(
                    id: invitations[0].id, patientId: patient, instruments: invitations[0].instruments, state: invitations[0].state,
                    closesAt: t0 + day))
        #expect(lookup.language == "nn")
        #expect(try await store.lookUpLink(invitationId: invitations[1].id, nonceHash: nonce) == nil)
        #expect(try await store.lookUpLink(invitationId: invitations[0].id, nonceHash: Array(repeating: 6, count: 32)) == nil)
        // The link brings the invitation's drafts along (the page needs both), and only its own.
        #expect(try await store.lookUpLink(invitationId: invitations[0].id, nonceHash: nonce)?.drafts == [:])
        try await store.saveDraft(invitationId: invitations[0].id, instrument: "eq5d-5l", answersJSON: #"{"MO":2}"#, language: "nb", at: t0)
        try await store.saveDraft(invitationId: invitations[1].id, instrument: "rand36", answersJSON: #"{"1":3}"#, language: "nb", at: t0)
        #expect(try await store.lookUpLink(invitationId: invitations[0].id, nonceHash: nonce)?.drafts == ["eq5d-5l": #"{"MO":2}"#])
        try await store.saveDraft(invitationId: invitations[0].id, instrument: "rand36", answersJSON: #"{"2":1}"#, language: "nb", at: t0)
        let both = try await store.lookUpLink(invitationId: invitations[0].id, nonceHash: nonce)
        #expect(both?.drafts == ["eq5d-5l": #"{"MO":2}"#, "rand36": #"{"2":1}"#])
        #expect(both?.invitation == lookup.invitation)
    }

    @Test(arguments: StoreKind.allCases)
    func submissionCompletesCancelsRemindersAndQueuesOneForward(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let patient = try await enrol(store)
        let p = plan("baseline", trigger: "x", opens: t0, closes: t0 + 21 * day, reminders: [t0 + 7 * day, t0 + 18 * day])
        let (course, _) = try await startCourse(store, patient: patient, plans: [p])
        _ = try await store.openDue(now: t0 + hour, limit: 10)
        let invitation = try #require(try await store.course(course)?.invitations.first)
        let nonce = Array(repeating: UInt8(7), count: 32)
        try await store.addLink(invitationId: invitation.id, nonceHash: nonce, expiresAt: t0 + day, actor: "t", at: t0)
        let drafts = { try await store.lookUpLink(invitationId: invitation.id, nonceHash: nonce)?.drafts }
        try await store.saveDraft(
            invitationId: invitation.id, instrument: "eq5d-5l", answersJSON: #"{"MO":1}"#, language: "nb", at: t0 + hour)
        #expect(try await drafts() == ["eq5d-5l": #"{"MO":1}"#])
        let response = SubmittedResponse(
            instrument: "eq5d-5l", instrumentVersion: "1.0.0", answersJSON: #"{"MO":1}"#,
            scores: [
                StoredScore(
                    key: "index", number: nil, flag: nil, itemsAnswered: nil, itemsInScale: nil,
                    algorithm: "eq5d@1.0", valueSet: "no-2024")
            ])
        try await store.submit(invitationId: invitation.id, responses: [response], respondent: "patient", language: "nb", at: t0 + 2 * hour)
        await #expect(throws: StoreError.self) {
            try await store.submit(
                invitationId: invitation.id, responses: [response], respondent: "patient", language: "nb", at: t0 + 3 * hour)
        }
        let done = try #require(try await store.invitation(invitation.id))
        #expect(done.state == .completed)
        #expect(done.reminders.allSatisfy { $0.state == .cancelled })
        #expect(try await store.remindDue(now: t0 + 8 * day, limit: 10) == 0)
        #expect(try await drafts()?.isEmpty == true)
        #expect(try await store.responses(invitationId: invitation.id).count == 1)
        #expect(try await store.outbox(patientId: patient).filter { $0.kind == .forward }.count == 1)
        // The reminders were left pending, and the reminder pass marks them cancelled once both are due: removing
        // whatever is still stored as pending then removes neither.
        #expect(try await store.remindDue(now: t0 + 19 * day, limit: 10) == 0)
        try await store.execute(rawSQL: "DELETE FROM reminders WHERE state = 'pending'")
        #expect(try await store.invitation(invitation.id)?.reminders.map(\.state) == [.cancelled, .cancelled])
        #expect(try await store.outbox(patientId: patient).filter { $0.kind == .reminder }.isEmpty)
    }

    /// The SQLite store writes a submission's responses, scores and flags a statement per table: each response keeps
    /// its own scores, in the order given, and its own forward.
    @Test(arguments: StoreKind.allCases)
    func eachResponseOfASubmissionKeepsItsOwnScoresInOrder(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let (patient, invitation) = try await invited(store)
        func score(_ key: String, _ number: String?, algorithm: String) -> StoredScore {
            StoredScore(
                key: key, number: number, flag: nil, itemsAnswered: 1, itemsInScale: 2, algorithm: algorithm,
                valueSet: key == "index" ? "no-2024" : nil)
        }
        let rand36 = ["physicalFunctioning", "rolePhysical", "pain"].enumerated().map {
            score($1, "\($0 + 1)0", algorithm: "rand36@1.0")
        }
        let eq5d = [score("index", "0.812", algorithm: "eq5d@1.0"), score("vas", nil, algorithm: "eq5d@1.0")]
        try await store.submit(
            invitationId: invitation,
            responses: [
                SubmittedResponse(instrument: "rand36", instrumentVersion: "1.0.0", answersJSON: #"{"1":3}"#, scores: rand36),
                SubmittedResponse(
                    instrument: "eq5d-5l", instrumentVersion: "1.0.0", answersJSON: #"{"AD":5}"#, scores: eq5d, safetyItems: ["AD"]),
            ],
            respondent: "patient", language: "nb", at: t0 + 2 * hour)
        let stored = try await store.responses(invitationId: invitation)
        #expect(stored.map(\.instrument) == ["eq5d-5l", "rand36"])
        #expect(stored.map(\.answersJSON) == [#"{"AD":5}"#, #"{"1":3}"#])
        #expect(stored.first?.scores == eq5d)
        #expect(stored.last?.scores == rand36)
        let flags = try await store.safetyFlags(in: .everyUnit, patientId: patient, unseenOnly: true)
        #expect(flags.map(\.instrument) == ["eq5d-5l"] && flags.map(\.items) == [["AD"]])
        let forwards = try await store.outbox(patientId: patient).filter { $0.kind == .forward }
        #expect(forwards.count == 2 && Set(forwards.map(\.idempotencyKey)).count == 2)
    }
}
