import Foundation
import GRDB
import SvarDomain
import SvarStore

extension SQLiteStore {
    public func safetyFlags(in scope: Scope, patientId: String?, unseenOnly: Bool) async throws -> [SafetyFlagRecord] {
        guard let (filter, units) = Self.unitClause(scope) else { return [] }
        let conditions =
            "p.deletion_requested_at IS NULL\(filter)" + (patientId == nil ? "" : " AND i.patient_id = ?")
            + (unseenOnly ? " AND f.seen_at IS NULL" : "")
        let arguments = units + (patientId.map { [$0] } ?? [])
        return try await db.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT f.response_id, f.items, f.seen_at, f.seen_by, r.invitation_id, r.instrument, r.submitted_at, i.patient_id,
                        i.course_id, i.milestone, c.unit
                    FROM safety_flags f JOIN responses r ON r.id = f.response_id JOIN invitations i ON i.id = r.invitation_id
                        JOIN courses c ON c.id = i.course_id JOIN patients p ON p.id = i.patient_id
                    WHERE \(conditions) ORDER BY r.submitted_at DESC, f.response_id
                    """, arguments: StatementArguments(arguments)
            ).map { row in
                let items: String = row["items"]
                return SafetyFlagRecord(
                    responseId: row["response_id"], invitationId: row["invitation_id"], patientId: row["patient_id"],
                    courseId: row["course_id"], unit: row["unit"], milestone: row["milestone"], instrument: row["instrument"],
                    submittedAt: Date(seconds: row["submitted_at"]), items: items.split(separator: ",").map(String.init),
                    seenAt: (row["seen_at"] as Int64?).map(Date.init(seconds:)), seenBy: row["seen_by"])
            }
        }
    }

    public func markSafetyFlagSeen(responseId: String, in scope: Scope, actor: String, at: Date) async throws -> Bool {
        guard let (filter, units) = Self.unitClause(scope) else { return false }
        return try await db.write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT f.seen_at, i.patient_id, r.instrument FROM safety_flags f JOIN responses r ON r.id = f.response_id
                            JOIN invitations i ON i.id = r.invitation_id JOIN courses c ON c.id = i.course_id
                        WHERE f.response_id = ?\(filter)
                        """, arguments: StatementArguments([responseId] + units))
            else { return false }
            if row["seen_at"] as Int64? == nil {
                try db.execute(
                    sql: "UPDATE safety_flags SET seen_at = ?, seen_by = ? WHERE response_id = ?",
                    arguments: [at.seconds, actor, responseId])
            }
            let instrument: String = row["instrument"]
            try Self.audit(
                db,
                AuditEntry(
                    at: at, actor: actor, action: "safety-flag.seen", subject: row["patient_id"],
                    detail: "response \(responseId) (\(instrument))"))
            return true
        }
    }
}
