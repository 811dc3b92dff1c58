import Foundation
import SvarDomain
import SvarStore

extension PostgresStore {
    public func decline(invitationId: String, actor: String, at: Date) async throws {
        try await transaction { tx in
            let state = try await tx.lockedState(of: invitationId)
            guard state.canMove(to: .declined) else {
                throw StoreError.conflict(field: "invitation", reason: "the invitation is \(state.rawValue) and cannot be declined")
            }
            // The transition ends the invitation: its queued messages are cancelled, and its reminders never go out.
            _ = try await tx.transition(
                invitationId: invitationId, to: .declined, cause: "the patient declined this questionnaire", actor: actor, at: at)
            try await tx.audit(
                AuditEntry(at: at, actor: actor, action: "invitation.decline", subject: invitationId, detail: "declined by the patient"))
        }
    }
}
