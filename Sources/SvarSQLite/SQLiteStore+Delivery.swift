import Foundation
import GRDB
import SvarDomain
import SvarStore

extension SQLiteStore {
    public func claimDeliveries(kinds: [OutboxKind], now: Date, leaseUntil: Date, limit: Int) async throws -> [ClaimedDelivery] {
        guard !kinds.isEmpty, limit > 0 else { return [] }
        return try await db.write { db in
            let marks = kinds.map { _ in "?" }.joined(separator: ", ")
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT o.*, p.language, p.reserved_at, i.state AS invitation_state, i.closes_at, c.unit
                    FROM outbox o JOIN patients p ON p.id = o.patient_id LEFT JOIN invitations i ON i.id = o.invitation_id
                    LEFT JOIN courses c ON c.id = i.course_id
                    WHERE o.state IN ('queued', 'sending') AND o.next_attempt_at <= ? AND o.kind IN (\(marks))
                    ORDER BY o.next_attempt_at LIMIT ?
                    """, arguments: StatementArguments([now.seconds] + kinds.map(\.rawValue) + [limit]))
            var claimed: [ClaimedDelivery] = []
            for row in rows {
                let id: String = row["id"]
                let invitationState: InvitationState? = try row.strictIfPresent("invitation_state", in: "invitations")
                let doubt = interruptedSend(row["state"])
                if row["reserved_at"] as Int64? != nil {
                    try Self.cancelDelivery(db, id: id, reason: doubt + "patient reserved", at: now)
                    continue
                }
                if let invitationState, invitationState.isTerminal {
                    try Self.cancelDelivery(db, id: id, reason: doubt + "invitation \(invitationState.rawValue)", at: now)
                    continue
                }
                try db.execute(
                    sql: "UPDATE outbox SET next_attempt_at = ?, updated_at = ? WHERE id = ?",
                    arguments: [leaseUntil.seconds, now.seconds, id])
                let failures: String = row["failures"]
                claimed.append(
                    ClaimedDelivery(
                        id: id, kind: try row.strict("kind", in: "outbox"), patientId: row["patient_id"],
                        invitationId: row["invitation_id"], payload: row["payload"],
                        attempts: row["attempts"], channelIndex: row["channel_index"],
                        failures: failures.split(separator: "\n").map(String.init), language: row["language"],
                        closesAt: (row["closes_at"] as Int64?).map(Date.init(seconds:)), unit: row["unit"]))
            }
            return claimed
        }
    }

    static func cancelDelivery(_ db: Database, id: String, reason: String, at: Date) throws {
        try db.execute(
            sql: "UPDATE outbox SET state = 'cancelled', last_error = ?, updated_at = ? WHERE id = ? AND state IN ('queued', 'sending')",
            arguments: [reason, at.seconds, id])
    }

    public func beginSending(deliveryIds: [String], at: Date) async throws -> Set<String> {
        guard !deliveryIds.isEmpty else { return [] }
        return try await db.write { db in
            let marks = deliveryIds.map { _ in "?" }.joined(separator: ", ")
            return Set(
                try String.fetchAll(
                    db,
                    sql: """
                        UPDATE outbox SET state = 'sending', updated_at = ? WHERE state IN ('queued', 'sending') AND id IN (\(marks))
                            RETURNING id
                        """, arguments: StatementArguments([at.seconds] + deliveryIds)))
        }
    }

    public func markSent(deliveryId: String, channel: String, messageId: String, at: Date) async throws {
        try await db.write { db in
            // A one-time code is not kept once it has gone out.
            try db.execute(
                sql: """
                    UPDATE outbox SET state = 'sent', channel = ?, message_id = ?, sent_at = ?, updated_at = ?, attempts = attempts + 1,
                        last_error = NULL, payload = CASE kind WHEN 'code' THEN '{}' ELSE payload END
                    WHERE id = ? AND state IN ('queued', 'sending')
                    """, arguments: [channel, messageId, at.seconds, at.seconds, deliveryId])
        }
    }

    public func scheduleRetry(deliveryId: String, reason: String, nextAttemptAt: Date, at: Date) async throws {
        try await db.write { db in
            try db.execute(
                sql: """
                    UPDATE outbox SET state = 'queued', attempts = attempts + 1, last_error = ?, next_attempt_at = ?, updated_at = ?
                    WHERE id = ? AND state IN ('queued', 'sending')
                    """, arguments: [reason, nextAttemptAt.seconds, at.seconds, deliveryId])
        }
    }

    public func moveToNextChannel(deliveryId: String, reason: String, at: Date) async throws {
        try await db.write { db in
            try db.execute(
                sql: """
                    UPDATE outbox SET state = 'queued', channel_index = channel_index + 1, attempts = 0, last_error = ?, next_attempt_at
                        = ?,
                        updated_at = ?, failures = CASE failures WHEN '' THEN ? ELSE failures || char(10) || ? END
                    WHERE id = ? AND state IN ('queued', 'sending')
                    """, arguments: [reason, at.seconds, at.seconds, reason, reason, deliveryId])
        }
    }

    public func markUndeliverable(deliveryId: String, reasons: [String], at: Date) async throws {
        try await db.write { db in
            let text = reasons.joined(separator: "\n")
            try db.execute(
                sql: """
                    UPDATE outbox SET state = 'failed', failures = ?, last_error = ?, updated_at = ?, payload = CASE kind WHEN 'code'
                        THEN '{}' ELSE payload END
                    WHERE id = ? AND state IN ('queued', 'sending')
                    """, arguments: [text, reasons.last ?? "no channel", at.seconds, deliveryId])
            guard db.changesCount == 1,
                let row = try Row.fetchOne(
                    db,
                    sql:
                        "SELECT o.kind, o.invitation_id, i.state FROM outbox o JOIN invitations i ON i.id = o.invitation_id WHERE o.id = ?",
                    arguments: [deliveryId]),
                let invitationId = row["invitation_id"] as String?,
                let state = InvitationState(rawValue: row["state"]), state.canMove(to: .unreachable),
                ["invitation", "reminder"].contains(row["kind"] as String)
            else { return }
            _ = try Self.transition(
                db, invitationId: invitationId, to: .unreachable, cause: "no channel reached the patient", actor: "outbox", at: at)
        }
    }

    public func unreachableInvitations(in scope: Scope) async throws -> [UnreachableInvitation] {
        let units = scope.sortedUnits
        return try await db.read { db in
            var sql = """
                SELECT i.id, i.course_id, i.patient_id, i.milestone, c.unit, i.updated_at,
                    (SELECT o.failures FROM outbox o WHERE o.patient_id = i.patient_id AND o.invitation_id = i.id AND o.state = 'failed'
                        ORDER BY o.updated_at DESC LIMIT 1) AS failures
                FROM invitations i JOIN courses c ON c.id = i.course_id
                WHERE i.state = 'unreachable'
                """
            var arguments: [any DatabaseValueConvertible] = []
            if let units {
                guard !units.isEmpty else { return [] }
                sql += " AND c.unit IN (\(units.map { _ in "?" }.joined(separator: ", ")))"
                arguments += units
            }
            sql += " ORDER BY i.updated_at, i.id"
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { row in
                UnreachableInvitation(
                    invitationId: row["id"], courseId: row["course_id"], patientId: row["patient_id"], unit: row["unit"],
                    milestone: row["milestone"], since: Date(seconds: row["updated_at"]),
                    reasons: ((row["failures"] as String?) ?? "").split(separator: "\n").map(String.init))
            }
        }
    }

    public func outboxItem(_ id: String) async throws -> OutboxItem? {
        try await db.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM outbox WHERE id = ?", arguments: [id]).map { try Self.outboxItem($0) }
        }
    }

    static func outboxItem(_ row: Row) throws -> OutboxItem {
        OutboxItem(
            id: row["id"], kind: try row.strict("kind", in: "outbox"), patientId: row["patient_id"], invitationId: row["invitation_id"],
            idempotencyKey: row["idempotency_key"], state: try row.strict("state", in: "outbox"),
            attempts: row["attempts"], createdAt: Date(seconds: row["created_at"]),
            channel: row["channel"], messageId: row["message_id"], lastError: row["last_error"],
            failures: ((row["failures"] as String?) ?? "").split(separator: "\n").map(String.init))
    }
}
