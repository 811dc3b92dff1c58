import Foundation
import PostgresNIO
import SvarDomain
import SvarStore

/// The scheduler's passes: each reads due rows through an index on due time, in a bounded batch, and changes
/// them in one transaction together with their history and outbox rows. The batch's rows are locked with
/// `SKIP LOCKED`, so passes running on several instances at once take different rows.
extension PostgresStore {
    public func expireDue(now: Date, limit: Int) async throws -> Int {
        try await transaction { tx in
            let ids = try await tx.rows(
                WorkerQuery.expiring(now: now, limit: limit)
            ).map { try $0.decode("id", as: String.self) }
            for id in ids {
                try await tx.transition(invitationId: id, to: .expired, cause: "the answer window closed", actor: "scheduler", at: now)
            }
            return ids.count
        }
    }

    public func openDue(now: Date, limit: Int) async throws -> (invited: Int, staleRemindersCancelled: Int) {
        let counts = try await transaction { tx in
            let rows = try await tx.rows(
                WorkerQuery.opening(now: now, limit: limit))
            var stale = 0
            for row in rows {
                let id: String = try row.decode("id")
                let patientId: String = try row.decode("patient_id")
                try await tx.transition(invitationId: id, to: .invited, cause: "the answer window opened", actor: "scheduler", at: now)
                // A window opened late (a back-dated event) must not fire its overdue reminders at once.
                stale += try await tx.count(
                    """
                    UPDATE reminders SET state = 'cancelled' WHERE invitation_id = \(id) AND state = 'pending' AND due_at <= \(now.seconds)
                    RETURNING 1
                    """)
                try await tx.enqueue(
                    kind: .invitation, patientId: patientId, invitationId: id, key: "invitation:\(id)",
                    payload: OutboxPayload(invitation: id), at: now)
            }
            return [rows.count, stale]
        }
        return (counts[0], counts[1])
    }

    public func remindDue(now: Date, limit: Int) async throws -> Int {
        try await transaction { tx in
            let rows = try await tx.rows(
                WorkerQuery.reminding(now: now, limit: limit))
            for row in rows {
                let id: String = try row.decode("invitation_id")
                let seq: Int64 = try row.decode("seq")
                let patientId: String = try row.decode("patient_id")
                try await tx.execute("UPDATE reminders SET state = 'sent' WHERE invitation_id = \(id) AND seq = \(seq)")
                try await tx.transition(invitationId: id, to: .reminded, cause: "reminder \(seq)", actor: "scheduler", at: now)
                try await tx.enqueue(
                    kind: .reminder, patientId: patientId, invitationId: id, key: "reminder:\(id):\(seq)",
                    payload: OutboxPayload(invitation: id, reminder: Int(seq)), at: now)
            }
            return rows.count
        }
    }

    public func prepareNudges(milestone: String, countsFrom: [PathwayEventType]) async throws -> Int {
        let rule = countsFrom.map(\.rawValue).sorted().joined(separator: ",")
        let types = countsFrom.map(\.rawValue)
        return try await transaction { tx in
            // Instances preparing the same rule at once: the second waits, then finds it unchanged.
            try await tx.execute("SELECT pg_advisory_xact_lock(\(PostgresMigrations.lockKey + 2), hashtext(\(milestone)))")
            if try await tx.value("SELECT counts_from FROM nudge_rules WHERE milestone = \(milestone)", as: String.self) == rule {
                return 0
            }
            try await tx.execute("UPDATE clinician_nudges SET milestone = \(milestone) WHERE milestone = ''")
            try await tx.execute("DELETE FROM nudge_counts WHERE milestone = \(milestone)")
            let counted = try await tx.count(
                """
                INSERT INTO nudge_counts (course_id, milestone, since, nudged)
                SELECT e.course_id, \(milestone), MAX(e.date),
                       EXISTS (SELECT 1 FROM clinician_nudges n WHERE n.course_id = e.course_id AND n.milestone = \(milestone) AND
                           n.resolved_at IS NULL)
                FROM pathway_events e JOIN courses c ON c.id = e.course_id
                WHERE c.status = 'active' AND e.type = ANY(\(types)) GROUP BY e.course_id
                RETURNING 1
                """)
            try await tx.execute(
                """
                INSERT INTO nudge_rules (milestone, counts_from) VALUES (\(milestone), \(rule))
                ON CONFLICT (milestone) DO UPDATE SET counts_from = excluded.counts_from
                """)
            return counted
        }
    }

    /// One statement per batch: the candidates leave the index (`nudged`), and a nudge is raised for each whose
    /// patient has not reserved themselves (nothing more is asked of them). Set-based, so a catch-up over hundreds
    /// of thousands of courses costs a few statements, not a round trip per course.
    public func raiseNudges(milestone: String, afterDays: Int, today: LocalDate, at: Date, limit: Int) async throws -> (
        raised: Int, examined: Int
    ) {
        try await transaction { tx in
            let cutoff = today.adding(days: -afterDays).description
            let row = try await tx.row(
                WorkerQuery.nudging(milestone: milestone, afterDays: afterDays, cutoff: cutoff, at: at, limit: limit))
            guard let row else { return (0, 0) }
            return (Int(try row.decode("raised", as: Int64.self)), Int(try row.decode("examined", as: Int64.self)))
        }
    }
}
