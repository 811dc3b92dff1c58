import Foundation
import PostgresNIO
import SvarDomain
import SvarStore

extension PostgresStore {
    public func safetyFlags(in scope: Scope, patientId: String?, unseenOnly: Bool) async throws -> [SafetyFlagRecord] {
        guard scope.units?.isEmpty != true else { return [] }
        let units = scope.sortedUnits
        return try await transaction { tx in
            try await tx.rows(
                """
                SELECT f.response_id, f.items, f.seen_at, f.seen_by, r.invitation_id, r.instrument, r.submitted_at, i.patient_id,
                    i.course_id, i.milestone, c.unit
                FROM safety_flags f JOIN responses r ON r.id = f.response_id JOIN invitations i ON i.id = r.invitation_id
                    JOIN courses c ON c.id = i.course_id JOIN patients p ON p.id = i.patient_id
                WHERE p.deletion_requested_at IS NULL AND (\(units)::text[] IS NULL OR c.unit = ANY(\(units)::text[]))
                  AND (\(patientId)::text IS NULL OR i.patient_id = \(patientId)) AND (NOT \(unseenOnly) OR f.seen_at IS NULL)
                ORDER BY r.submitted_at DESC, f.response_id
                """
            ).map { row in
                SafetyFlagRecord(
                    responseId: try row.decode("response_id"), invitationId: try row.decode("invitation_id"),
                    patientId: try row.decode("patient_id"), courseId: try row.decode("course_id"), unit: try row.decode("unit"),
                    milestone: try row.decode("milestone"), instrument: try row.decode("instrument"),
                    submittedAt: try row.date("submitted_at"),
                    items: try row.decode("items", as: String.self).split(separator: ",").map(String.init),
                    seenAt: try row.optionalDate("seen_at"), seenBy: try row.decode("seen_by"))
            }
        }
    }

    public func markSafetyFlagSeen(responseId: String, in scope: Scope, actor: String, at: Date) async throws -> Bool {
        guard scope.units?.isEmpty != true else { return false }
        let units = scope.sortedUnits
        return try await transaction { tx in
            guard
                let row = try await tx.row(
                    """
                    SELECT i.patient_id, r.instrument FROM safety_flags f JOIN responses r ON r.id = f.response_id
                        JOIN invitations i ON i.id = r.invitation_id JOIN courses c ON c.id = i.course_id
                    WHERE f.response_id = \(responseId) AND (\(units)::text[] IS NULL OR c.unit = ANY(\(units)::text[]))
                    FOR UPDATE OF f
                    """)
            else { return false }
            try await tx.execute(
                """
                UPDATE safety_flags SET seen_at = \(at.seconds), seen_by = \(actor) WHERE response_id = \(responseId) AND seen_at IS NULL
                """)
            let instrument: String = try row.decode("instrument")
            try await tx.audit(
                AuditEntry(
                    at: at, actor: actor, action: "safety-flag.seen", subject: try row.decode("patient_id"),
                    detail: "response \(responseId) (\(instrument))"))
            return true
        }
    }
}
