import Foundation
import GRDB
import SvarDomain
import SvarStore

extension SQLiteStore {
    public func decline(invitationId: String, actor: String, at: Date) async throws {
        try await db.write { db in
            let state = try Self.invitationState(db, invitationId)
            guard state.canMove(to: .declined) else {
                throw StoreError.conflict(field: "invitation", reason: "the invitation is \(state.rawValue) and cannot be declined")
            }
            // The transition ends the invitation: its queued messages are cancelled, and its reminders never go out.
            try Self.transition(
                db, invitationId: invitationId, to: .declined, cause: "the patient declined this questionnaire", actor: actor, at: at)
            try Self.audit(
                db, AuditEntry(at: at, actor: actor, action: "invitation.decline", subject: invitationId, detail: "declined by the patient")
            )
        }
    }
}
