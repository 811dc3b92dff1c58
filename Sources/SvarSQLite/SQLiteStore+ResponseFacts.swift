import Foundation
import GRDB
import SvarDomain
import SvarStore

/// The response overview's raw groups and the scoped lookup of a known number (`ClinicianStore`).
extension SQLiteStore {
    public func responseFacts(in scope: Scope, now: Date) async throws -> [ResponseFacts] {
        guard let (filter, units) = Self.unitClause(scope) else { return [] }
        let asked = Self.askedStates.map { _ in "?" }.joined(separator: ", ")
        // The facts of each invitation first, then grouped: the overview needs counts, not rows per patient.
        let sql = """
            SELECT unit, name, milestone, state, cancel_reason, reserved, asked, unreachable, channel, reminders_sent, days,
                COUNT(*) AS n
            FROM (
                SELECT c.unit, u.name, i.milestone, i.state, i.cancel_reason, i.reminders_sent,
                    p.reserved_at IS NOT NULL AS reserved,
                    EXISTS (SELECT 1 FROM invitation_history h WHERE h.invitation_id = i.id AND h.to_state IN (\(asked))) AS asked,
                    EXISTS (SELECT 1 FROM invitation_history h WHERE h.invitation_id = i.id AND h.to_state = 'unreachable')
                        AS unreachable,
                    (SELECT o.channel FROM outbox o
                     WHERE o.patient_id = i.patient_id AND o.invitation_id = i.id AND o.kind = 'invitation' AND o.state = 'sent'
                     ORDER BY o.sent_at LIMIT 1) AS channel,
                    CASE WHEN i.state = 'completed' THEN
                        ((SELECT MIN(h.at) FROM invitation_history h WHERE h.invitation_id = i.id AND h.to_state = 'completed')
                         - (SELECT MIN(h.at) FROM invitation_history h WHERE h.invitation_id = i.id AND h.to_state = 'invited'))
                        / 86400
                    END AS days
                FROM invitations i
                JOIN courses c ON c.id = i.course_id
                JOIN units u ON u.resh = c.unit
                JOIN patients p ON p.id = i.patient_id
                WHERE p.deletion_requested_at IS NULL AND i.opens_at <= ?\(filter)
            ) f
            GROUP BY unit, name, milestone, state, cancel_reason, reserved, asked, unreachable, channel, reminders_sent, days
            ORDER BY unit, milestone, state, channel, reminders_sent, days
            """
        let arguments = StatementArguments(Self.askedStates) + StatementArguments([now.seconds]) + StatementArguments(units)
        return try await db.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                ResponseFacts(
                    unit: row["unit"], unitName: row["name"], milestone: row["milestone"],
                    state: try row.strict("state", in: "invitations"),
                    cancelReason: try row.strictIfPresent("cancel_reason", in: "invitations"),
                    patientReserved: row["reserved"], asked: row["asked"], everUnreachable: row["unreachable"],
                    channel: row["channel"], remindersSent: row["reminders_sent"], daysToAnswer: row["days"], count: row["n"])
            }
        }
    }

    public func knownPatient(lookupHash: [UInt8], in scope: Scope) async throws -> String? {
        guard let (filter, units) = Self.unitClause(scope) else { return nil }
        let courseInScope = scope.units == nil ? "" : " AND EXISTS (SELECT 1 FROM courses c WHERE c.patient_id = v.patient_id\(filter))"
        return try await db.read { db in
            try String.fetchOne(
                db, sql: "SELECT v.patient_id FROM identity_vault v WHERE v.lookup_hash = ?\(courseInScope)",
                arguments: StatementArguments([Data(lookupHash)]) + StatementArguments(units))
        }
    }
}
