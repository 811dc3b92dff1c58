import Foundation
import GRDB
import SvarDomain
import SvarRegistry
import SvarStore

extension SQLiteStore {
    public func claimForwards(now: Date, leaseUntil: Date, limit: Int) async throws -> [ClaimedForward] {
        guard limit > 0 else { return [] }
        return try await db.write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT o.id, o.kind, o.patient_id, o.response_id, o.attempts, p.reserved_at
                    FROM outbox o JOIN patients p ON p.id = o.patient_id
                    WHERE o.state = 'queued' AND o.kind IN ('forward', 'erase') AND o.next_attempt_at <= ?
                    ORDER BY o.next_attempt_at, o.created_at LIMIT ?
                    """, arguments: [now.seconds, limit])
            var claimed: [ClaimedForward] = []
            for row in rows {
                let id: String = row["id"]
                let kind: ClaimedForward.Kind = try row.strict("kind", in: "outbox")
                if kind == .forward, row["reserved_at"] as Int64? != nil {
                    try Self.cancelDelivery(db, id: id, reason: "patient reserved", at: now)
                    continue
                }
                try db.execute(
                    sql: "UPDATE outbox SET next_attempt_at = ?, updated_at = ? WHERE id = ?",
                    arguments: [leaseUntil.seconds, now.seconds, id])
                claimed.append(
                    ClaimedForward(
                        id: id, kind: kind, patientId: row["patient_id"], responseId: row["response_id"],
                        attempts: row["attempts"]))
            }
            return claimed
        }
    }

    public func forwardedResponse(responseId: String) async throws -> ForwardedResponse? {
        try await db.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT r.*, i.patient_id, i.course_id, i.milestone, c.unit
                        FROM responses r JOIN invitations i ON i.id = r.invitation_id JOIN courses c ON c.id = i.course_id
                        WHERE r.id = ?
                        """, arguments: [responseId])
            else { return nil }
            let scores = try Row.fetchAll(db, sql: "SELECT * FROM scores WHERE response_id = ? ORDER BY rowid", arguments: [responseId]).map
            {
                StoredScore(
                    key: $0["key"], number: $0["number"], flag: $0["flag"], itemsAnswered: $0["items_answered"],
                    itemsInScale: $0["items_in_scale"], algorithm: $0["algorithm"], valueSet: $0["value_set"])
            }
            return ForwardedResponse(
                responseId: responseId, patientId: row["patient_id"], invitationId: row["invitation_id"], courseId: row["course_id"],
                unit: row["unit"], milestone: row["milestone"], instrument: row["instrument"], instrumentVersion: row["instrument_version"],
                language: row["language"], respondent: row["respondent"], submittedAt: Date(seconds: row["submitted_at"]),
                answersJSON: row["answers"], scores: scores)
        }
    }

    public func recordForwarded(forwardId: String, disclosure: Disclosure) async throws {
        try await db.write { db in
            try db.execute(
                sql: """
                    UPDATE outbox SET state = 'sent', channel = ?, sent_at = ?, updated_at = ?, attempts = attempts + 1, last_error = NULL
                    WHERE id = ? AND state IN ('queued', 'cancelled')
                    """, arguments: [disclosure.recipient, disclosure.at.seconds, disclosure.at.seconds, forwardId])
            try db.execute(
                sql: """
                    INSERT INTO disclosure_log (at, recipient, subject, identified_by, data_set, response_id, basis, receipt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    disclosure.at.seconds, disclosure.recipient, disclosure.subject, disclosure.identifiedBy, disclosure.dataSet,
                    disclosure.responseId, disclosure.basis, disclosure.receipt,
                ])
        }
    }

    public func scheduleForwardRetry(forwardId: String, reason: String, nextAttemptAt: Date, at: Date) async throws {
        try await scheduleRetry(deliveryId: forwardId, reason: reason, nextAttemptAt: nextAttemptAt, at: at)
    }

    public func deadLetter(forwardId: String, reason: String, at: Date) async throws {
        try await db.write { db in
            try db.execute(
                sql: """
                    UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?, updated_at = ? WHERE id = ? AND state =
                        'queued'
                    """, arguments: [reason, at.seconds, forwardId])
        }
    }

    public func failedForwards() async throws -> [FailedForward] {
        try await db.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM outbox WHERE state = 'failed' AND kind IN ('forward', 'erase') ORDER BY updated_at, id
                    """
            ).map {
                FailedForward(
                    id: $0["id"], patientId: $0["patient_id"], responseId: $0["response_id"], attempts: $0["attempts"],
                    reason: ($0["last_error"] as String?) ?? "", failedAt: Date(seconds: $0["updated_at"]))
            }
        }
    }

    public func retryForward(id: String, actor: String, at: Date) async throws {
        try await db.write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql:
                        "SELECT o.kind, o.state, o.patient_id, p.reserved_at FROM outbox o JOIN patients p ON p.id = o.patient_id "
                        + "WHERE o.id = ?",
                    arguments: [id]),
                ["forward", "erase"].contains(row["kind"] as String)
            else {
                throw StoreError.notFound(what: "forward", id: id)
            }
            let state: String = row["state"]
            guard state == "failed" else {
                throw StoreError.conflict(
                    field: "state", reason: "the forward is \(state), not failed; only failed forwards can be retried")
            }
            if row["kind"] as String == "forward", row["reserved_at"] as Int64? != nil {
                throw StoreError.conflict(field: "patient", reason: "the patient has reserved themselves; nothing more is forwarded")
            }
            try db.execute(
                sql: "UPDATE outbox SET state = 'queued', attempts = 0, next_attempt_at = ?, updated_at = ? WHERE id = ?",
                arguments: [at.seconds, at.seconds, id])
            try Self.audit(
                db, AuditEntry(at: at, actor: actor, action: "forward.retry", subject: row["patient_id"], detail: "forward \(id)"))
        }
    }

    public func disclosures(subject: String?, limit: Int) async throws -> [Disclosure] {
        try await db.read { db in
            let rows: [Row]
            if let subject {
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM disclosure_log WHERE subject = ? ORDER BY id LIMIT ?", arguments: [subject, limit])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM disclosure_log ORDER BY id DESC LIMIT ?", arguments: [limit])
            }
            return rows.map {
                Disclosure(
                    at: Date(seconds: $0["at"]), recipient: $0["recipient"], subject: $0["subject"], identifiedBy: $0["identified_by"],
                    dataSet: $0["data_set"], responseId: $0["response_id"], basis: $0["basis"], receipt: $0["receipt"])
            }
        }
    }
}
