import Foundation
import PostgresNIO
import SvarDomain
import SvarRegistry
import SvarStore

extension PostgresStore {
    /// Tables erased for a deleted patient, children first, each with the patient's id as `$1`. Kept: the patient
    /// row (pseudonym, reservation and request dates), the reservation tombstone, the audit log and the disclosure log.
    /// (PostgreSQL reuses the freed space after VACUUM; autovacuum must be on.)
    private static let erasures: [(what: String, sql: String)] = [
        ("answer drafts", "DELETE FROM answer_drafts WHERE invitation_id IN (SELECT id FROM invitations WHERE patient_id = $1)"),
        ("step views", "DELETE FROM step_views WHERE invitation_id IN (SELECT id FROM invitations WHERE patient_id = $1)"),
        ("second-factor state", "DELETE FROM link_factor WHERE invitation_id IN (SELECT id FROM invitations WHERE patient_id = $1)"),
        ("links", "DELETE FROM invitation_links WHERE invitation_id IN (SELECT id FROM invitations WHERE patient_id = $1)"),
        ("reminders", "DELETE FROM reminders WHERE invitation_id IN (SELECT id FROM invitations WHERE patient_id = $1)"),
        ("invitation history", "DELETE FROM invitation_history WHERE invitation_id IN (SELECT id FROM invitations WHERE patient_id = $1)"),
        (
            "safety flags",
            "DELETE FROM safety_flags WHERE response_id IN (SELECT r.id FROM responses r JOIN invitations i ON i.id = r.invitation_id "
                + "WHERE i.patient_id = $1)"
        ),
        (
            "scores",
            "DELETE FROM scores WHERE response_id IN (SELECT r.id FROM responses r JOIN invitations i ON i.id = r.invitation_id "
                + "WHERE i.patient_id = $1)"
        ),
        ("responses", "DELETE FROM responses WHERE invitation_id IN (SELECT id FROM invitations WHERE patient_id = $1)"),
        ("messages", "DELETE FROM outbox WHERE patient_id = $1 AND kind != 'erase'"),
        ("invitations", "DELETE FROM invitations WHERE patient_id = $1"),
        ("clinician nudges", "DELETE FROM clinician_nudges WHERE course_id IN (SELECT id FROM courses WHERE patient_id = $1)"),
        ("nudge counts", "DELETE FROM nudge_counts WHERE course_id IN (SELECT id FROM courses WHERE patient_id = $1)"),
        ("pathway events", "DELETE FROM pathway_events WHERE course_id IN (SELECT id FROM courses WHERE patient_id = $1)"),
        ("courses", "DELETE FROM courses WHERE patient_id = $1"),
        ("identity (as units registered it)", "DELETE FROM unit_identities WHERE patient_id = $1"),
        ("identity (vault)", "DELETE FROM identity_vault WHERE patient_id = $1"),
    ]

    public func deletePatientData(patientId: String, actor: String, at: Date) async throws -> DeletionReport {
        try await transaction { tx in
            guard try await tx.patient(patientId, locking: true) != nil else { throw StoreError.notFound(what: "patient", id: patientId) }
            if let earlier = try await tx.deletionReport(patientId: patientId), earlier.state != .received {
                return earlier  // a repeated request changes nothing
            }
            // Stop first: reservation cancels everything pending and leaves the tombstone (from the vault row).
            _ = try await tx.reserve(patientId: patientId, actor: actor, at: at)
            var erased: [String] = []
            for (what, sql) in Self.erasures {
                var binds = PostgresBindings()
                binds.append(patientId)
                let count = try await tx.count(PostgresQuery(unsafeSQL: sql + " RETURNING 1", binds: binds))
                if count > 0 { erased.append("\(what): \(count)") }
            }
            var kept = [
                "audit log entries (pseudonym only): kept as the record of who did what",
                "reservation and its tombstone (keyed hash, no number): so the patient is not invited again",
            ]
            for row in try await tx.rows(
                """
                SELECT recipient, COUNT(*) AS n, MIN(at) AS first, MAX(at) AS last FROM disclosure_log WHERE subject = \(patientId)
                GROUP BY recipient ORDER BY recipient
                """)
            {
                let n: Int = try row.decode("n")
                let recipient: String = try row.decode("recipient")
                kept.append(
                    "disclosure log: \(n) response(s) disclosed to \(recipient) between "
                        + "\(OsloTime.iso8601(try row.date("first"))) and \(OsloTime.iso8601(try row.date("last"))) (§ 4-7)")
            }
            try await tx.execute(
                """
                UPDATE patients SET deletion_requested_at = COALESCE(deletion_requested_at, \(at.seconds)) WHERE id = \(patientId)
                """)
            try await tx.execute(
                """
                INSERT INTO deletion_requests (patient_id, requested_at, deadline, state, erased, kept)
                VALUES (\(patientId), \(at.seconds), \(at.seconds + 30 * 86_400), \(DeletionReport.State.erasingAtRegistry.rawValue),
                        \(erased.joined(separator: "\n")), \(kept.joined(separator: "\n")))
                ON CONFLICT (patient_id) DO UPDATE SET state = excluded.state, erased = excluded.erased, kept = excluded.kept
                """)
            try await tx.enqueue(
                kind: .erase, patientId: patientId, invitationId: nil, key: "erase:\(patientId)", payload: OutboxPayload(), at: at)
            try await tx.audit(
                AuditEntry(
                    at: at, actor: actor, action: "patient.delete", subject: patientId,
                    detail: "erased in Svar: \(erased.joined(separator: "; ")); registry erasure queued"))
            guard let report = try await tx.deletionReport(patientId: patientId) else {
                throw StoreError.notFound(what: "deletion request", id: patientId)
            }
            return report
        }
    }

    public func completeErasure(forwardId: String, patientId: String, report: ErasureReport, at: Date) async throws {
        try await transaction { tx in
            guard let current = try await tx.deletionReport(patientId: patientId, locking: true) else {
                throw StoreError.notFound(what: "deletion request", id: patientId)
            }
            let erased = current.erased + report.erased.map { "registry: \($0)" }
            let kept = current.kept + report.kept.map { "registry: \($0)" }
            try await tx.execute(
                """
                UPDATE deletion_requests SET state = \(DeletionReport.State.done.rawValue), completed_at = \(at.seconds),
                    erased = \(erased.joined(separator: "\n")), kept = \(kept.joined(separator: "\n")) WHERE patient_id = \(patientId)
                """)
            try await tx.execute(
                """
                UPDATE outbox SET state = 'sent', sent_at = \(at.seconds), updated_at = \(at.seconds), attempts = attempts + 1 WHERE id
                    = \(forwardId)
                """)
            try await tx.audit(
                AuditEntry(
                    at: at, actor: "forwarder", action: "patient.delete.registry", subject: patientId,
                    detail: "erased: \(report.erased.joined(separator: "; ")); kept: \(report.kept.joined(separator: "; "))"))
        }
    }

    public func deletionReport(patientId: String) async throws -> DeletionReport? {
        try await transaction { try await $0.deletionReport(patientId: patientId) }
    }
}

extension Transaction {
    func deletionReport(patientId: String, locking: Bool = false) async throws -> DeletionReport? {
        let lock = locking ? " FOR UPDATE" : ""
        return try await row("SELECT * FROM deletion_requests WHERE patient_id = \(patientId)\(unescaped: lock)").map {
            DeletionReport(
                patientId: patientId, requestedAt: try $0.date("requested_at"), deadline: try $0.date("deadline"),
                state: try $0.strict("state", in: "deletion_requests"),
                completedAt: try $0.optionalDate("completed_at"), erased: try $0.lines("erased"), kept: try $0.lines("kept"))
        }
    }
}
