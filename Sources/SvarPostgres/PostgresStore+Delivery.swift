import Foundation
import PostgresNIO
import SvarDomain
import SvarStore

extension PostgresStore {
    /// Locks the due items it claims and skips those another instance holds: instances split the outbox.
    public func claimDeliveries(kinds: [OutboxKind], now: Date, leaseUntil: Date, limit: Int) async throws -> [ClaimedDelivery] {
        guard !kinds.isEmpty, limit > 0 else { return [] }
        let kindNames = kinds.map(\.rawValue)
        return try await transaction { tx in
            let rows = try await tx.rows(
                WorkerQuery.deliveries(kinds: kindNames, now: now, limit: limit))
            var claimed: [ClaimedDelivery] = []
            for row in rows {
                let id: String = try row.decode("id")
                let invitationState: InvitationState? = try row.strictIfPresent("invitation_state", in: "invitations", named: "state")
                let doubt = interruptedSend(try row.decode("state", as: String.self))
                if try row.decode("reserved_at", as: Int64?.self) != nil {
                    try await tx.cancelDelivery(id: id, reason: doubt + "patient reserved", at: now)
                    continue
                }
                if let invitationState, invitationState.isTerminal {
                    try await tx.cancelDelivery(id: id, reason: doubt + "invitation \(invitationState.rawValue)", at: now)
                    continue
                }
                try await tx.execute(
                    "UPDATE outbox SET next_attempt_at = \(leaseUntil.seconds), updated_at = \(now.seconds) WHERE id = \(id)")
                claimed.append(
                    ClaimedDelivery(
                        id: id, kind: try row.strict("kind", in: "outbox"), patientId: try row.decode("patient_id"),
                        invitationId: try row.decode("invitation_id"),
                        payload: try row.decode("payload"), attempts: try row.decode("attempts"),
                        channelIndex: try row.decode("channel_index"),
                        failures: try row.lines("failures"), language: try row.decode("language"),
                        closesAt: try row.optionalDate("closes_at"),
                        unit: try row.decode("unit")))
            }
            return claimed
        }
    }

    public func beginSending(deliveryIds: [String], at: Date) async throws -> Set<String> {
        guard !deliveryIds.isEmpty else { return [] }
        return try await transaction { tx in
            Set(
                try await tx.rows(
                    """
                    UPDATE outbox SET state = 'sending', updated_at = \(at.seconds)
                    WHERE state IN ('queued', 'sending') AND id = ANY(\(deliveryIds))
                    RETURNING id
                    """
                ).map { try $0.decode("id", as: String.self) })
        }
    }

    public func markSent(deliveryId: String, channel: String, messageId: String, at: Date) async throws {
        try await transaction { tx in
            // A one-time code is not kept once it has gone out.
            try await tx.execute(
                """
                UPDATE outbox SET state = 'sent', channel = \(channel), message_id = \(messageId), sent_at = \(at.seconds),
                    updated_at = \(at.seconds),
                    attempts = attempts + 1, last_error = NULL, payload = CASE kind WHEN 'code' THEN '{}' ELSE payload END
                WHERE id = \(deliveryId) AND state IN ('queued', 'sending')
                """)
        }
    }

    public func scheduleRetry(deliveryId: String, reason: String, nextAttemptAt: Date, at: Date) async throws {
        try await transaction { tx in
            try await tx.execute(
                """
                UPDATE outbox SET state = 'queued', attempts = attempts + 1, last_error = \(reason),
                    next_attempt_at = \(nextAttemptAt.seconds), updated_at = \(at.seconds)
                WHERE id = \(deliveryId) AND state IN ('queued', 'sending')
                """)
        }
    }

    public func moveToNextChannel(deliveryId: String, reason: String, at: Date) async throws {
        try await transaction { tx in
            try await tx.execute(
                """
                UPDATE outbox SET state = 'queued', channel_index = channel_index + 1, attempts = 0, last_error = \(reason),
                    next_attempt_at = \(at.seconds),
                    updated_at = \(at.seconds), failures = CASE failures WHEN '' THEN \(reason) ELSE failures || chr(10) || \(reason) END
                WHERE id = \(deliveryId) AND state IN ('queued', 'sending')
                """)
        }
    }

    public func markUndeliverable(deliveryId: String, reasons: [String], at: Date) async throws {
        try await transaction { tx in
            let failed = try await tx.count(
                """
                UPDATE outbox SET state = 'failed', failures = \(reasons.joined(separator: "\n")),
                    last_error = \(reasons.last ?? "no channel"),
                    updated_at = \(at.seconds), payload = CASE kind WHEN 'code' THEN '{}' ELSE payload END
                WHERE id = \(deliveryId) AND state IN ('queued', 'sending') RETURNING 1
                """)
            guard failed == 1,
                let row = try await tx.row(
                    """
                    SELECT o.kind, o.invitation_id, i.state FROM outbox o JOIN invitations i ON i.id = o.invitation_id
                        WHERE o.id = \(deliveryId)
                    """),
                let invitationId = try row.decode("invitation_id", as: String?.self),
                try row.strict("state", in: "invitations", as: InvitationState.self).canMove(to: .unreachable),
                [.invitation, .reminder].contains(try row.strict("kind", in: "outbox", as: OutboxKind.self))
            else { return }
            try await tx.transition(
                invitationId: invitationId, to: .unreachable, cause: "no channel reached the patient", actor: "outbox", at: at)
        }
    }

    public func unreachableInvitations(in scope: Scope) async throws -> [UnreachableInvitation] {
        guard scope.units?.isEmpty != true else { return [] }
        let units = scope.sortedUnits
        return try await transaction { tx in
            try await tx.rows(
                ClinicianListQuery.unreachable(units: units)
            ).map { row in
                UnreachableInvitation(
                    invitationId: try row.decode("id"), courseId: try row.decode("course_id"), patientId: try row.decode("patient_id"),
                    unit: try row.decode("unit"), milestone: try row.decode("milestone"), since: try row.date("updated_at"),
                    reasons: try row.lines("failures"))
            }
        }
    }

    public func outboxItem(_ id: String) async throws -> OutboxItem? {
        try await transaction { tx in try await tx.row("SELECT * FROM outbox WHERE id = \(id)").map(Self.outboxItem) }
    }

    public func outbox(patientId: String) async throws -> [OutboxItem] {
        try await transaction { tx in
            try await tx.rows("SELECT * FROM outbox WHERE patient_id = \(patientId) ORDER BY created_at, idempotency_key").map(
                Self.outboxItem)
        }
    }

    /// Outbox items of one kind, oldest first — for operations and tests.
    public func outboxItems(kind: OutboxKind) async throws -> [OutboxItem] {
        try await transaction { tx in
            try await tx.rows("SELECT * FROM outbox WHERE kind = \(kind.rawValue) ORDER BY created_at, idempotency_key").map(
                Self.outboxItem)
        }
    }

    static func outboxItem(_ row: PostgresRandomAccessRow) throws -> OutboxItem {
        OutboxItem(
            id: try row.decode("id"), kind: try row.strict("kind", in: "outbox"), patientId: try row.decode("patient_id"),
            invitationId: try row.decode("invitation_id"), idempotencyKey: try row.decode("idempotency_key"),
            state: try row.strict("state", in: "outbox"), attempts: try row.decode("attempts"),
            createdAt: try row.date("created_at"), channel: try row.decode("channel"), messageId: try row.decode("message_id"),
            lastError: try row.decode("last_error"), failures: try row.lines("failures"))
    }
}

extension Transaction {
    func cancelDelivery(id: String, reason: String, at: Date) async throws {
        try await execute(
            """
            UPDATE outbox SET state = 'cancelled', last_error = \(reason), updated_at = \(at.seconds) WHERE id = \(id)
                AND state IN ('queued', 'sending')
            """)
    }
}
