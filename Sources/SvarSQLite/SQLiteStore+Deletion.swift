import Foundation
import GRDB
import SvarDomain
import SvarRegistry
import SvarStore

extension SQLiteStore {
    /// Tables erased for a deleted patient, children first. Kept: the patient row (pseudonym, reservation and
    /// request dates), the reservation tombstone, the audit log and the disclosure log.
    private static let erasures: [(what: String, sql: String)] = [
        ("answer drafts", "DELETE FROM answer_drafts WHERE invitation_id IN (SELECT id FROM invitations WHERE patient_id = ?)"),
        ("step views", "DELETE FROM step_views WHERE invitation_id IN (SELECT id FROM invitations WHERE patient_id = ?)"),
        ("second-factor state", "DELETE FROM link_factor WHERE invitation_id IN (SELECT id FROM invitations WHERE patient_id = ?)"),
        ("links", "DELETE FROM invitation_links WHERE invitation_id IN (SELECT id FROM invitations WHERE patient_id = ?)"),
        ("reminders", "DELETE FROM reminders WHERE invitation_id IN (SELECT id FROM invitations WHERE patient_id = ?)"),
        ("invitation history", "DELETE FROM invitation_history WHERE invitation_id IN (SELECT id FROM invitations WHERE patient_id = ?)"),
        (
            "safety flags",
            "DELETE FROM safety_flags WHERE response_id IN (SELECT r.id FROM responses r JOIN invitations i ON i.id = r.invitation_id "
                + "WHERE i.patient_id = ?)"
        ),
        (
            "scores",
            "DELETE FROM scores WHERE response_id IN (SELECT r.id FROM responses r JOIN invitations i ON i.id = r.invitation_id "
                + "WHERE i.patient_id = ?)"
        ),
        ("responses", "DELETE FROM responses WHERE invitation_id IN (SELECT id FROM invitations WHERE patient_id = ?)"),
        ("messages", "DELETE FROM outbox WHERE patient_id = ? AND kind != 'erase'"),
        ("invitations", "DELETE FROM invitations WHERE patient_id = ?"),
        ("clinician nudges", "DELETE FROM clinician_nudges WHERE course_id IN (SELECT id FROM courses WHERE patient_id = ?)"),
        ("nudge counts", "DELETE FROM nudge_counts WHERE course_id IN (SELECT id FROM courses WHERE patient_id = ?)"),
        ("pathway events", "DELETE FROM pathway_events WHERE course_id IN (SELECT id FROM courses WHERE patient_id = ?)"),
        ("courses", "DELETE FROM courses WHERE patient_id = ?"),
        ("identity (as units registered it)", "DELETE FROM unit_identities WHERE patient_id = ?"),
        ("identity (vault)", "DELETE FROM identity_vault WHERE patient_id = ?"),
    ]

    public func deletePatientData(patientId: String, actor: String, at: Date) async throws -> DeletionReport {
        let report = try await erasePatientData(patientId: patientId, actor: actor, at: at)
        try await checkpointAfterErasure()
        return report
    }

    private func erasePatientData(patientId: String, actor: String, at: Date) async throws -> DeletionReport {
        try await db.write { db in
            guard try Self.patient(in: db, id: patientId) != nil else { throw StoreError.notFound(what: "patient", id: patientId) }
            if let earlier = try Self.deletionReport(db, patientId: patientId), earlier.state != .received {
                return earlier  // a repeated request changes nothing
            }
            // Stop first: reservation cancels everything pending and leaves the tombstone (from the vault row).
            _ = try Self.reserve(db, patientId: patientId, actor: actor, at: at)
            var erased: [String] = []
            for (what, sql) in Self.erasures {
                try db.execute(sql: sql, arguments: [patientId])
                if db.changesCount > 0 { erased.append("\(what): \(db.changesCount)") }
            }
            var kept = [
                "audit log entries (pseudonym only): kept as the record of who did what",
                "reservation and its tombstone (keyed hash, no number): so the patient is not invited again",
            ]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT recipient, COUNT(*) AS n, MIN(at) AS first, MAX(at) AS last FROM disclosure_log WHERE subject = ? GROUP BY
                        recipient
                    """, arguments: [patientId])
            {
                let n: Int = row["n"]
                kept.append(
                    "disclosure log: \(n) response(s) disclosed to \(row["recipient"] as String) between "
                        + "\(OsloTime.iso8601(Date(seconds: row["first"]))) and \(OsloTime.iso8601(Date(seconds: row["last"]))) (§ 4-7)")
            }
            try db.execute(
                sql: "UPDATE patients SET deletion_requested_at = COALESCE(deletion_requested_at, ?) WHERE id = ?",
                arguments: [at.seconds, patientId])
            try db.execute(
                sql: """
                    INSERT INTO deletion_requests (patient_id, requested_at, deadline, state, erased, kept) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (patient_id) DO UPDATE SET state = excluded.state, erased = excluded.erased, kept = excluded.kept
                    """,
                arguments: [
                    patientId, at.seconds, at.seconds + 30 * 86_400, DeletionReport.State.erasingAtRegistry.rawValue,
                    erased.joined(separator: "\n"), kept.joined(separator: "\n"),
                ])
            try Self.enqueue(
                db, kind: .erase, patientId: patientId, invitationId: nil, key: "erase:\(patientId)", payload: OutboxPayload(), at: at)
            try Self.audit(
                db,
                AuditEntry(
                    at: at, actor: actor, action: "patient.delete", subject: patientId,
                    detail: "erased in Svar: \(erased.joined(separator: "; ")); registry erasure queued"))
            guard let report = try Self.deletionReport(db, patientId: patientId) else {
                throw StoreError.notFound(what: "deletion request", id: patientId)
            }
            return report
        }
    }

    public func completeErasure(forwardId: String, patientId: String, report: ErasureReport, at: Date) async throws {
        try await db.write { db in
            guard let current = try Self.deletionReport(db, patientId: patientId) else {
                throw StoreError.notFound(what: "deletion request", id: patientId)
            }
            let erased = current.erased + report.erased.map { "registry: \($0)" }
            let kept = current.kept + report.kept.map { "registry: \($0)" }
            try db.execute(
                sql: """
                    UPDATE deletion_requests SET state = ?, completed_at = ?, erased = ?, kept = ? WHERE patient_id = ?
                    """,
                arguments: [
                    DeletionReport.State.done.rawValue, at.seconds, erased.joined(separator: "\n"), kept.joined(separator: "\n"), patientId,
                ])
            try db.execute(
                sql: "UPDATE outbox SET state = 'sent', sent_at = ?, updated_at = ?, attempts = attempts + 1 WHERE id = ?",
                arguments: [at.seconds, at.seconds, forwardId])
            try Self.audit(
                db,
                AuditEntry(
                    at: at, actor: "forwarder", action: "patient.delete.registry", subject: patientId,
                    detail: "erased: \(report.erased.joined(separator: "; ")); kept: \(report.kept.joined(separator: "; "))"))
        }
    }

    public func deletionReport(patientId: String) async throws -> DeletionReport? {
        try await db.read { try Self.deletionReport($0, patientId: patientId) }
    }

    static func deletionReport(_ db: Database, patientId: String) throws -> DeletionReport? {
        try Row.fetchOne(db, sql: "SELECT * FROM deletion_requests WHERE patient_id = ?", arguments: [patientId]).map {
            let erased: String = $0["erased"]
            let kept: String = $0["kept"]
            return DeletionReport(
                patientId: patientId, requestedAt: Date(seconds: $0["requested_at"]), deadline: Date(seconds: $0["deadline"]),
                state: try $0.strict("state", in: "deletion_requests"),
                completedAt: ($0["completed_at"] as Int64?).map(Date.init(seconds:)),
                erased: erased.split(separator: "\n").map(String.init), kept: kept.split(separator: "\n").map(String.init))
        }
    }
}
