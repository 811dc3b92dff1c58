import Foundation
import PostgresNIO
import SvarDomain
import SvarRegistry
import SvarStore

extension PostgresStore {
    /// Locks the due items it claims and skips those another instance holds: instances split the forwards.
    public func claimForwards(now: Date, leaseUntil: Date, limit: Int) async throws -> [ClaimedForward] {
        guard limit > 0 else { return [] }
        return try await transaction { tx in
            let rows = try await tx.rows(
                WorkerQuery.forwards(now: now, limit: limit))
            var claimed: [ClaimedForward] = []
            for row in rows {
                let id: String = try row.decode("id")
                let kind: ClaimedForward.Kind = try row.strict("kind", in: "outbox")
                if kind == .forward, try row.decode("reserved_at", as: Int64?.self) != nil {
                    try await tx.cancelDelivery(id: id, reason: "patient reserved", at: now)
                    continue
                }
                try await tx.execute(
                    "UPDATE outbox SET next_attempt_at = \(leaseUntil.seconds), updated_at = \(now.seconds) WHERE id = \(id)")
                claimed.append(
                    ClaimedForward(
                        id: id, kind: kind, patientId: try row.decode("patient_id"), responseId: try row.decode("response_id"),
                        attempts: try row.decode("attempts")))
            }
            return claimed
        }
    }

    public func forwardedResponse(responseId: String) async throws -> ForwardedResponse? {
        try await transaction { tx in
            guard
                let row = try await tx.row(
                    """
                    SELECT r.*, i.patient_id, i.course_id, i.milestone, c.unit
                    FROM responses r JOIN invitations i ON i.id = r.invitation_id JOIN courses c ON c.id = i.course_id
                    WHERE r.id = \(responseId)
                    """)
            else { return nil }
            return ForwardedResponse(
                responseId: responseId, patientId: try row.decode("patient_id"), invitationId: try row.decode("invitation_id"),
                courseId: try row.decode("course_id"), unit: try row.decode("unit"), milestone: try row.decode("milestone"),
                instrument: try row.decode("instrument"), instrumentVersion: try row.decode("instrument_version"),
                language: try row.decode("language"), respondent: try row.decode("respondent"), submittedAt: try row.date("submitted_at"),
                answersJSON: try row.decode("answers"), scores: try await tx.scores(responseId: responseId))
        }
    }

    public func recordForwarded(forwardId: String, disclosure: Disclosure) async throws {
        try await transaction { tx in
            try await tx.execute(
                """
                UPDATE outbox SET state = 'sent', channel = \(disclosure.recipient), sent_at = \(disclosure.at.seconds),
                    updated_at = \(disclosure.at.seconds), attempts = attempts + 1, last_error = NULL
                WHERE id = \(forwardId) AND state IN ('queued', 'cancelled')
                """)
            try await tx.execute(
                """
                INSERT INTO disclosure_log (at, recipient, subject, identified_by, data_set, response_id, basis, receipt)
                VALUES (\(disclosure.at.seconds), \(disclosure.recipient), \(disclosure.subject), \(disclosure.identifiedBy),
                    \(disclosure.dataSet),
                        \(disclosure.responseId), \(disclosure.basis), \(disclosure.receipt))
                """)
        }
    }

    public func scheduleForwardRetry(forwardId: String, reason: String, nextAttemptAt: Date, at: Date) async throws {
        try await scheduleRetry(deliveryId: forwardId, reason: reason, nextAttemptAt: nextAttemptAt, at: at)
    }

    public func deadLetter(forwardId: String, reason: String, at: Date) async throws {
        try await transaction { tx in
            try await tx.execute(
                """
                UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = \(reason), updated_at = \(at.seconds)
                WHERE id = \(forwardId) AND state = 'queued'
                """)
        }
    }

    public func failedForwards() async throws -> [FailedForward] {
        try await transaction { tx in
            try await tx.rows("SELECT * FROM outbox WHERE state = 'failed' AND kind IN ('forward', 'erase') ORDER BY updated_at, id").map {
                FailedForward(
                    id: try $0.decode("id"), patientId: try $0.decode("patient_id"), responseId: try $0.decode("response_id"),
                    attempts: try $0.decode("attempts"), reason: try $0.decode("last_error", as: String?.self) ?? "",
                    failedAt: try $0.date("updated_at"))
            }
        }
    }

    public func retryForward(id: String, actor: String, at: Date) async throws {
        try await transaction { tx in
            guard
                let row = try await tx.row(
                    """
                    SELECT o.kind, o.state, o.patient_id, p.reserved_at FROM outbox o JOIN patients p ON p.id = o.patient_id
                    WHERE o.id = \(id) FOR UPDATE OF o
                    """), ["forward", "erase"].contains(try row.decode("kind", as: String.self))
            else {
                throw StoreError.notFound(what: "forward", id: id)
            }
            let state: String = try row.decode("state")
            guard state == "failed" else {
                throw StoreError.conflict(
                    field: "state", reason: "the forward is \(state), not failed; only failed forwards can be retried")
            }
            if try row.decode("kind", as: String.self) == "forward", try row.decode("reserved_at", as: Int64?.self) != nil {
                throw StoreError.conflict(field: "patient", reason: "the patient has reserved themselves; nothing more is forwarded")
            }
            try await tx.execute(
                """
                UPDATE outbox SET state = 'queued', attempts = 0, next_attempt_at = \(at.seconds), updated_at = \(at.seconds)
                    WHERE id = \(id)
                """)
            try await tx.audit(
                AuditEntry(at: at, actor: actor, action: "forward.retry", subject: try row.decode("patient_id"), detail: "forward \(id)"))
        }
    }

    public func disclosures(subject: String?, limit: Int) async throws -> [Disclosure] {
        try await transaction { tx in
            let rows: [PostgresRandomAccessRow]
            if let subject {
                rows = try await tx.rows("SELECT * FROM disclosure_log WHERE subject = \(subject) ORDER BY id LIMIT \(Int64(limit))")
            } else {
                rows = try await tx.rows("SELECT * FROM disclosure_log ORDER BY id DESC LIMIT \(Int64(limit))")
            }
            return try rows.map {
                Disclosure(
                    at: try $0.date("at"), recipient: try $0.decode("recipient"), subject: try $0.decode("subject"),
                    identifiedBy: try $0.decode("identified_by"), dataSet: try $0.decode("data_set"),
                    responseId: try $0.decode("response_id"), basis: try $0.decode("basis"), receipt: try $0.decode("receipt"))
            }
        }
    }
}
