import Foundation
import SvarDomain
import SvarStore
import SvarTestSupport
import Testing

/// A patient at 4208 with one open invitation whose notification is queued.
func invited(_ store: any Store, number: String = "01914796756") async throws -> (patient: String, invitation: String) {
    let patient = try await enrol(store, number: number)
    let (course, _) = try await startCourse(
        store, patient: patient, plans: [plan("baseline", trigger: "x", opens: t0, closes: t0 + 21 * day)])
    _ = try await store.openDue(now: t0 + hour, limit: 10)
    return (patient, try #require(try await store.course(course)?.invitations.first?.id))
}

/// A patient at 4208 with an open invitation, answered with EQ-5D-5L whose answers raised `flagged` (none: no flag).
func answered(_ store: any Store, number: String, flagged: [String], at: Date) async throws -> (patient: String, invitation: String) {
    let (patient, invitation) = try await invited(store, number: number)
    try await store.submit(
        invitationId: invitation,
        responses: [
            SubmittedResponse(
                instrument: "eq5d-5l", instrumentVersion: "1.0.0", answersJSON: #"{"AD":5}"#, scores: [], safetyItems: flagged),
            SubmittedResponse(instrument: "rand36", instrumentVersion: "1.0.0", answersJSON: #"{"q1":1}"#, scores: []),
        ],
        respondent: "patient", language: "nb", at: at)
    return (patient, invitation)
}

/// Safety flags on every engine: recorded with the submission, read within a scope, marked seen once (audited),
/// and erased with the patient's data.
@Suite struct StoreSafetyContractTests {
    @Test(arguments: StoreKind.allCases)
    func aFlaggedAnswerIsListedInScopeUntilSeenAndTheMarkIsAudited(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let (first, firstInvitation) = try await answered(store, number: "01914796756", flagged: ["AD"], at: t0 + 2 * hour)
        let (second, _) = try await answered(store, number: "02838897382", flagged: ["AD"], at: t0 + 3 * hour)
        _ = try await answered(store, number: "15076500565", flagged: [], at: t0 + 4 * hour)

        let all = try await store.safetyFlags(in: .only(["4208"]), patientId: nil, unseenOnly: true)
        #expect(all.map(\.patientId) == [second, first], "newest first, and the unflagged submission has none")
        let flag = try #require(all.last)
        #expect(flag.invitationId == firstInvitation && flag.instrument == "eq5d-5l" && flag.items == ["AD"])
        #expect(flag.unit == "4208" && flag.milestone == "baseline" && flag.submittedAt == t0 + 2 * hour && flag.seenAt == nil)
        #expect(try await store.safetyFlags(in: .only(["9999"]), patientId: nil, unseenOnly: false).isEmpty)
        #expect(try await store.safetyFlags(in: .everyUnit, patientId: first, unseenOnly: false).map(\.responseId) == [flag.responseId])

        // Outside the scope the flag does not exist: nothing is marked or audited.
        #expect(try await !store.markSafetyFlagSeen(responseId: flag.responseId, in: .only(["9999"]), actor: "other", at: t0 + day))
        #expect(try await !store.markSafetyFlagSeen(responseId: "no-such-response", in: .everyUnit, actor: "kari", at: t0 + day))
        #expect(try await store.auditEntries(subject: first).contains { $0.action == "safety-flag.seen" } == false)

        #expect(try await store.markSafetyFlagSeen(responseId: flag.responseId, in: .only(["4208"]), actor: "kari", at: t0 + day))
        // Marked again later by someone else: still a known flag, but the first mark stays.
        #expect(try await store.markSafetyFlagSeen(responseId: flag.responseId, in: .only(["4208"]), actor: "ola", at: t0 + 2 * day))
        #expect(try await store.safetyFlags(in: .only(["4208"]), patientId: nil, unseenOnly: true).map(\.patientId) == [second])
        let seen = try #require(try await store.safetyFlags(in: .only(["4208"]), patientId: first, unseenOnly: false).first)
        #expect(seen.seenAt == t0 + day && seen.seenBy == "kari")
        let audited = try await store.auditEntries(subject: first).filter { $0.action == "safety-flag.seen" }
        #expect(audited.map(\.actor) == ["kari", "ola"])
        #expect(audited.allSatisfy { $0.detail.contains(flag.responseId) })
    }

    @Test(arguments: StoreKind.allCases)
    func aDeletionRequestHidesTheFlagsAndTheDeletionErasesThem(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let (patient, _) = try await answered(store, number: "01914796756", flagged: ["AD"], at: t0 + 2 * hour)
        let (other, _) = try await answered(store, number: "02838897382", flagged: ["AD"], at: t0 + 3 * hour)
        let responseId = try #require(try await store.safetyFlags(in: .everyUnit, patientId: patient, unseenOnly: true).first?.responseId)
        let report = try await store.deletePatientData(patientId: patient, actor: "registry", at: t0 + day)
        #expect(report.erased.contains("safety flags: 1"), "\(report.erased)")
        #expect(try await store.safetyFlags(in: .everyUnit, patientId: nil, unseenOnly: false).map(\.patientId) == [other])
        #expect(try await !store.markSafetyFlagSeen(responseId: responseId, in: .everyUnit, actor: "kari", at: t0 + day))
    }
}
