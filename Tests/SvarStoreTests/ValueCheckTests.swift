import Foundation
import GRDB
import SvarDomain
import SvarStore
import Testing

@testable import SvarSQLite

/// States, kinds and roles are enums in the code and checked lists in the schema; the two must agree, a value
/// outside the list is refused by the database, and one that got there anyway is an error when read.
@Suite struct ValueCheckTests {
    func values<E: RawRepresentable & CaseIterable>(_ type: E.Type) -> [String] where E.RawValue == String { E.allCases.map(\.rawValue) }

    @Test func theSchemaListsExactlyTheValuesTheCodeKnows() {
        let checks = Dictionary(uniqueKeysWithValues: ValueCheck.all.map { ("\($0.table).\($0.column)", $0.values) })
        let code: [String: [String]] = [
            "invitations.state": values(InvitationState.self), "invitations.cancel_reason": values(CancelReason.self),
            "invitation_history.to_state": values(InvitationState.self), "invitation_history.from_state": values(InvitationState.self),
            "reminders.state": values(ReminderRecord.State.self), "courses.status": values(CourseStatus.self),
            "courses.type": values(CourseType.self), "pathway_events.type": values(PathwayEventType.self),
            "outbox.kind": values(OutboxKind.self), "outbox.state": values(OutboxItem.State.self),
            "deletion_requests.state": values(DeletionReport.State.self), "users.role": values(Role.self),
        ]
        #expect(checks == code, "a new case in the code needs a migration that replaces the check")
    }

    @Test func aValueOutsideTheListIsRefusedByTheDatabase() async throws {
        let store = try SQLiteStore()
        let patient = try await enrol(store)
        let (course, _) = try await startCourse(
            store, patient: patient, plans: [plan("baseline", trigger: "x", opens: t0, closes: t0 + day)])
        await #expect(throws: DatabaseError.self) {
            try await store.db.write {
                try $0.execute(sql: "UPDATE invitations SET state = 'lost' WHERE course_id = ?", arguments: [course])
            }
        }
        await #expect(throws: DatabaseError.self) {
            try await store.db.write { try $0.execute(sql: "UPDATE courses SET status = NULL WHERE id = ?", arguments: [course]) }
        }
        try await store.db.write {
            try $0.execute(sql: "UPDATE invitations SET cancel_reason = NULL WHERE course_id = ?", arguments: [course])
        }
    }

    @Test func aValueThatGotThereAnywayIsAnErrorNotADefault() async throws {
        let store = try SQLiteStore()
        let patient = try await enrol(store)
        let (course, _) = try await startCourse(
            store, patient: patient, plans: [plan("baseline", trigger: "x", opens: t0, closes: t0 + day)])
        try await store.db.write { db in
            try db.execute(sql: "DROP TRIGGER check_invitations_state_update")
            try db.execute(sql: "UPDATE invitations SET state = 'lost' WHERE course_id = ?", arguments: [course])
        }
        let error = await #expect(throws: StoreError.self) { try await store.course(course) }
        #expect(error == .corruptValue(table: "invitations", column: "state", value: "lost"))
    }
}
