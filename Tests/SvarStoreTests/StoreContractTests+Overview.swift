import Foundation
import SvarDomain
import SvarServices
import SvarStore
import SvarTestSupport
import Testing

/// The clinician pages' reads added for the response overview and the known-number check, on every engine.
@Suite struct StoreOverviewContractTests {
    /// One patient with a baseline at unit 4208 opening at `opens` and closing at `closes`.
    func patient(_ store: any Store, _ number: String, opens: Date = t0, closes: Date = t0 + 21 * day) async throws -> (String, String) {
        let patient = try await enrol(store, number: number)
        let (course, _) = try await startCourse(
            store, patient: patient, plans: [plan("baseline", trigger: "x", opens: opens, closes: closes)])
        return (patient, try #require(try await store.course(course)?.invitations.first?.id))
    }

    @Test(arguments: StoreKind.allCases)
    func responseFactsCountEveryOpenedInvitationWithItsChannelRemindersAndDays(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let (_, answered) = try await patient(store, "01914796756")
        let (_, unreached) = try await patient(store, "02838897382")
        let (reserved, _) = try await patient(store, "15076500565")
        _ = try await patient(store, "not-checked-4", closes: t0 + hour)  // closes before it is opened: expired unsent
        _ = try await patient(store, "not-checked-5", opens: t0 + 30 * day, closes: t0 + 40 * day)  // not yet due
        _ = try await store.expireDue(now: t0 + 2 * hour, limit: 10)
        _ = try await store.openDue(now: t0 + 2 * hour, limit: 10)
        let claimed = try await store.claimDeliveries(kinds: [.invitation], now: t0 + 2 * hour, leaseUntil: t0 + 3 * hour, limit: 10)
        for delivery in claimed where delivery.invitationId == answered {
            _ = try await store.beginSending(deliveryIds: [delivery.id], at: t0 + 2 * hour)
            try await store.markSent(deliveryId: delivery.id, channel: "sms", messageId: "m1", at: t0 + 2 * hour)
        }
        for delivery in claimed where delivery.invitationId == unreached {
            try await store.markUndeliverable(deliveryId: delivery.id, reasons: ["no mobile number"], at: t0 + 2 * hour)
        }
        _ = try await store.reserve(patientId: reserved, actor: "t", at: t0 + 3 * hour)
        try await store.submit(
            invitationId: answered,
            responses: [SubmittedResponse(instrument: "eq5d-5l", instrumentVersion: "1.0.0", answersJSON: #"{"MO":1}"#, scores: [])],
            respondent: "patient", language: "nb", at: t0 + 2 * day + 3 * hour)

        let facts = try await store.responseFacts(in: .only(["4208"]), now: t0 + 3 * day)
        #expect(facts.map(\.count).reduce(0, +) == 4, "four opened by now; the fifth opens later: \(facts)")
        let done = try #require(facts.first { $0.state == .completed })
        #expect(done.asked && done.channel == "sms" && done.daysToAnswer == 2 && done.remindersSent == 0 && !done.patientReserved)
        let lost = try #require(facts.first { $0.state == .unreachable })
        #expect(lost.asked && lost.everUnreachable && lost.channel == nil)
        let optedOut = try #require(facts.first { $0.state == .cancelled })
        #expect(optedOut.cancelReason == .reservation && optedOut.patientReserved)
        let unsent = try #require(facts.first { $0.state == .expired })
        #expect(!unsent.asked && unsent.daysToAnswer == nil && unsent.unitName == "Unit" && unsent.milestone == "baseline")
        let row = try #require(try ResponseOverview(facts, minCell: 3).rows.first)
        #expect(row.outcomes[.answered] == .small && row.eligible == .shown(4) && row.rate == nil)
        #expect(try await store.responseFacts(in: .only(["9999"]), now: t0 + 3 * day).isEmpty)
        #expect(try await store.responseFacts(in: .everyUnit, now: t0 + 3 * day) == facts)
        #expect(try await store.responseFacts(in: .everyUnit, now: t0 + 31 * day).map(\.count).reduce(0, +) == 5)
    }

    @Test(arguments: StoreKind.allCases)
    func aKnownNumberIsFoundOnlyWithinTheScope(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let hash = vault.lookupHash(identityNumber: "01914796756")
        #expect(try await store.knownPatient(lookupHash: hash, in: .everyUnit) == nil)
        let patient = try await enrol(store)
        #expect(try await store.knownPatient(lookupHash: hash, in: .everyUnit) == patient)
        #expect(try await store.knownPatient(lookupHash: hash, in: .only(["4208"])) == nil, "no course at 4208 yet")
        _ = try await startCourse(store, patient: patient)
        #expect(try await store.knownPatient(lookupHash: hash, in: .only(["4208", "5000"])) == patient)
        #expect(try await store.knownPatient(lookupHash: hash, in: .only(["5000"])) == nil)
        #expect(try await store.knownPatient(lookupHash: hash, in: .only([])) == nil)
        #expect(try await store.knownPatient(lookupHash: vault.lookupHash(identityNumber: "02838897382"), in: .everyUnit) == nil)
    }

    /// A course's start is the date of its `start` event, not the day it was registered in Svar.
    @Test(arguments: StoreKind.allCases)
    func aCourseStartedWhenItsStartEventSaysNotWhenItWasRegistered(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let started = try await enrol(store, number: "01914796756")
        try await store.createUnit(Unit(resh: "4208", name: "Unit"), actor: "t", at: t0)
        try await store.createCourse(NewCourse(id: "c-started", patientId: started, unit: "4208", type: .D01), actor: "t", at: t0)
        // Registered in January 2026 for a treatment that started in May 2025.
        let start = PathwayEvent(id: "start-c-started", type: .start, date: LocalDate(iso: "2025-05-24")!, unit: "4208", recordedBy: "t")
        _ = try await store.recordEvent(courseId: "c-started", event: start, restartingNudges: [], at: t0) { _, _ in [] }
        let waiting = try await enrol(store, number: "02838897382")
        try await store.createCourse(NewCourse(id: "c-waiting", patientId: waiting, unit: "4208", type: .D01), actor: "t", at: t0 + day)
        let summaries = try await store.courseSummaries(in: .only(["4208"]))
        #expect(summaries.first { $0.patientId == started }?.startedOn == LocalDate(iso: "2025-05-24"))
        let notYet = try #require(summaries.first { $0.patientId == waiting })
        #expect(notYet.startedOn == nil && notYet.registeredAt == t0 + day)
    }
}
