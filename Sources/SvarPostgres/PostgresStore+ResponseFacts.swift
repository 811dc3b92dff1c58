import Foundation
import PostgresNIO
import SvarDomain
import SvarStore

/// The response overview's raw groups and the scoped lookup of a known number (`ClinicianStore`); `units` is bound
/// as an array, NULL for every unit.
extension PostgresStore {
    public func responseFacts(in scope: Scope, now: Date) async throws -> [ResponseFacts] {
        guard scope.units?.isEmpty != true else { return [] }
        let units = scope.sortedUnits
        return try await transaction { tx in
            // The facts of each invitation first, then grouped: the overview needs counts, not rows per patient.
            try await tx.rows(
                """
                SELECT unit, name, milestone, state, cancel_reason, reserved, asked, unreachable, channel, reminders_sent, days,
                    COUNT(*) AS n
                FROM (
                    SELECT c.unit, u.name, i.milestone, i.state, i.cancel_reason, i.reminders_sent,
                        p.reserved_at IS NOT NULL AS reserved,
                        EXISTS (SELECT 1 FROM invitation_history h WHERE h.invitation_id = i.id
                                AND h.to_state = ANY(\(Self.askedStates))) AS asked,
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
                    WHERE p.deletion_requested_at IS NULL AND i.opens_at <= \(now.seconds)
                      AND (\(units)::text[] IS NULL OR c.unit = ANY(\(units)::text[]))
                ) f
                GROUP BY unit, name, milestone, state, cancel_reason, reserved, asked, unreachable, channel, reminders_sent, days
                ORDER BY unit, milestone, state, channel NULLS FIRST, reminders_sent, days NULLS FIRST
                """
            ).map { row in
                ResponseFacts(
                    unit: try row.decode("unit"), unitName: try row.decode("name"), milestone: try row.decode("milestone"),
                    state: try row.strict("state", in: "invitations"),
                    cancelReason: try row.strictIfPresent("cancel_reason", in: "invitations"),
                    patientReserved: try row.decode("reserved"), asked: try row.decode("asked"),
                    everUnreachable: try row.decode("unreachable"), channel: try row.decode("channel"),
                    remindersSent: Int(try row.decode("reminders_sent", as: Int64.self)),
                    daysToAnswer: try row.decode("days", as: Int64?.self).map { Int($0) }, count: Int(try row.decode("n", as: Int64.self)))
            }
        }
    }

    public func knownPatient(lookupHash: [UInt8], in scope: Scope) async throws -> String? {
        guard scope.units?.isEmpty != true else { return nil }
        let units = scope.sortedUnits
        let hash = Data(lookupHash)
        return try await transaction { tx in
            try await tx.value(
                """
                SELECT v.patient_id FROM identity_vault v WHERE v.lookup_hash = \(hash)
                  AND (\(units)::text[] IS NULL
                       OR EXISTS (SELECT 1 FROM courses c WHERE c.patient_id = v.patient_id AND c.unit = ANY(\(units)::text[])))
                """, as: String.self)
        }
    }
}
