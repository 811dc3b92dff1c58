import Foundation
import SvarDomain
import SvarStore
import SvarTestSupport
import Testing

/// Declining one questionnaire from its landing page (issue 15 item 8), on every engine.
@Suite struct DeclineContractTests {
    @Test(arguments: StoreKind.allCases)
    func aDeclineEndsThatInvitationAloneStopsItsRemindersAndIsAudited(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let patient = try await enrol(store)
        let plans = [
            plan("baseline", trigger: "x", opens: t0, closes: t0 + 21 * day, reminders: [t0 + 7 * day, t0 + 14 * day]),
            plan("followUp1y", trigger: "x", opens: t0 + 300 * day, closes: t0 + 400 * day),
        ]
        let (course, _) = try await startCourse(store, patient: patient, plans: plans)
        #expect(try await store.openDue(now: t0 + hour, limit: 10).invited == 1)
        let baseline = try #require(try await store.course(course)?.invitations.first { $0.milestone == "baseline" })
        try await store.decline(invitationId: baseline.id, actor: "patient", at: t0 + 2 * hour)

        let record = try #require(try await store.course(course))
        let declined = try #require(record.invitations.first { $0.id == baseline.id })
        #expect(declined.state == .declined)
        #expect(declined.reminders.allSatisfy { $0.state == .cancelled })
        #expect(try await store.remindDue(now: t0 + 15 * day, limit: 10) == 0, "no reminder goes out for a declined questionnaire")
        #expect(try await store.outbox(patientId: patient).filter { $0.kind == .reminder }.isEmpty)
        // The patient is not reserved: the next questionnaire still opens.
        #expect(try await store.patient(patient)?.isReserved == false)
        #expect(record.invitations.first { $0.milestone == "followUp1y" }?.state == .scheduled)
        #expect(try await store.openDue(now: t0 + 300 * day + hour, limit: 10).invited == 1)
        let audit = try await store.auditEntries(subject: baseline.id)
        #expect(audit.contains { $0.action == "invitation.decline" && $0.actor == "patient" })
    }

    @Test(arguments: StoreKind.allCases)
    func anAnsweredOrAlreadyDeclinedInvitationCannotBeDeclined(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let patient = try await enrol(store)
        let (course, _) = try await startCourse(
            store, patient: patient, plans: [plan("baseline", trigger: "x", opens: t0, closes: t0 + 21 * day)])
        _ = try await store.openDue(now: t0 + hour, limit: 10)
        let id = try #require(try await store.course(course)?.invitations.first?.id)
        try await store.decline(invitationId: id, actor: "patient", at: t0 + 2 * hour)
        await #expect(throws: StoreError.self) { try await store.decline(invitationId: id, actor: "patient", at: t0 + 3 * hour) }
        let history = try #require(try await store.course(course)?.invitations.first).history
        #expect(history.filter { $0.to == .declined }.count == 1, "a second decline changes nothing")
        await #expect(throws: StoreError.self) { try await store.decline(invitationId: "no-such", actor: "patient", at: t0) }
    }
}
