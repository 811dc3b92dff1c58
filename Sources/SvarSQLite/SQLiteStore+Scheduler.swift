import Foundation
import GRDB
import SvarDomain
import SvarStore

/// The scheduler's passes: each reads due rows through an index on due time, in a bounded batch, and
/// changes them in one transaction together with their history and outbox rows.
extension SQLiteStore {
    public func expireDue(now: Date, limit: Int) async throws -> Int {
        try await db.write { db in
            let ids = try String.fetchAll(
                db,
                sql: """
                    SELECT id FROM invitations
                    WHERE closes_at <= ? AND state IN ('scheduled', 'invited', 'reminded', 'opened', 'unreachable')
                    ORDER BY closes_at LIMIT ?
                    """, arguments: [now.seconds, limit])
            for id in ids {
                try Self.transition(db, invitationId: id, to: .expired, cause: "the answer window closed", actor: "scheduler", at: now)
            }
            return ids.count
        }
    }

    public func openDue(now: Date, limit: Int) async throws -> (invited: Int, staleRemindersCancelled: Int) {
        try await db.write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT i.id, i.patient_id FROM invitations i
                    WHERE i.state = 'scheduled' AND i.opens_at <= ? AND i.closes_at > ?
                    ORDER BY i.opens_at LIMIT ?
                    """, arguments: [now.seconds, now.seconds, limit])
            var stale = 0
            for row in rows {
                let id: String = row["id"]
                let patientId: String = row["patient_id"]
                try Self.transition(db, invitationId: id, to: .invited, cause: "the answer window opened", actor: "scheduler", at: now)
                // A window opened late (a back-dated event) must not fire its overdue reminders at once.
                try db.execute(
                    sql: "UPDATE reminders SET state = 'cancelled' WHERE invitation_id = ? AND state = 'pending' AND due_at <= ?",
                    arguments: [id, now.seconds])
                stale += db.changesCount
                try Self.enqueue(
                    db, kind: .invitation, patientId: patientId, invitationId: id, key: "invitation:\(id)",
                    payload: OutboxPayload(invitation: id), at: now)
            }
            return (rows.count, stale)
        }
    }

    public func remindDue(now: Date, limit: Int) async throws -> Int {
        try await db.write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT r.invitation_id, r.seq, i.patient_id FROM reminders r JOIN invitations i ON i.id = r.invitation_id
                    WHERE r.state = 'pending' AND r.due_at <= ? AND i.state IN ('invited', 'reminded', 'opened') AND i.closes_at > ?
                    ORDER BY r.due_at LIMIT ?
                    """, arguments: [now.seconds, now.seconds, limit])
            for row in rows {
                let id: String = row["invitation_id"]
                let seq: Int = row["seq"]
                let patientId: String = row["patient_id"]
                try db.execute(sql: "UPDATE reminders SET state = 'sent' WHERE invitation_id = ? AND seq = ?", arguments: [id, seq])
                try Self.transition(db, invitationId: id, to: .reminded, cause: "reminder \(seq)", actor: "scheduler", at: now)
                try Self.enqueue(
                    db, kind: .reminder, patientId: patientId, invitationId: id, key: "reminder:\(id):\(seq)",
                    payload: OutboxPayload(invitation: id, reminder: seq), at: now)
            }
            return rows.count
        }
    }

    public func prepareNudges(milestone: String, countsFrom: [PathwayEventType]) async throws -> Int {
        let rule = countsFrom.map(\.rawValue).sorted().joined(separator: ",")
        return try await db.write { db in
            if try String.fetchOne(db, sql: "SELECT counts_from FROM nudge_rules WHERE milestone = ?", arguments: [milestone]) == rule {
                return 0
            }
            try db.execute(sql: "UPDATE clinician_nudges SET milestone = ? WHERE milestone = ''", arguments: [milestone])
            try db.execute(sql: "DELETE FROM nudge_counts WHERE milestone = ?", arguments: [milestone])
            let types = countsFrom.map(\.rawValue)
            let marks = types.map { _ in "?" }.joined(separator: ", ")
            try db.execute(
                sql: """
                    INSERT INTO nudge_counts (course_id, milestone, since, nudged)
                    SELECT e.course_id, ?, MAX(e.date),
                           EXISTS (SELECT 1 FROM clinician_nudges n WHERE n.course_id = e.course_id AND n.milestone = ? AND
                               n.resolved_at IS NULL)
                    FROM pathway_events e JOIN courses c ON c.id = e.course_id
                    WHERE c.status = 'active' AND e.type IN (\(marks)) GROUP BY e.course_id
                    """, arguments: StatementArguments([milestone, milestone] + types))
            let counted = db.changesCount
            try db.execute(
                sql:
                    "INSERT INTO nudge_rules (milestone, counts_from) VALUES (?, ?) ON CONFLICT (milestone) DO UPDATE SET "
                    + "counts_from = excluded.counts_from",
                arguments: [milestone, rule])
            return counted
        }
    }

    /// Set-based, as on PostgreSQL: the batch is picked into a temporary table once, then marked and raised
    /// with one statement each, instead of two statements per course.
    public func raiseNudges(milestone: String, afterDays: Int, today: LocalDate, at: Date, limit: Int) async throws -> (
        raised: Int, examined: Int
    ) {
        try await db.write { db in
            let cutoff = today.adding(days: -afterDays).description
            try db.execute(
                sql: """
                    CREATE TEMP TABLE IF NOT EXISTS nudge_batch (
                        course_id TEXT PRIMARY KEY, since TEXT NOT NULL, reserved INTEGER NOT NULL
                    )
                    """)
            try db.execute(sql: "DELETE FROM temp.nudge_batch")
            // Every candidate leaves the index, so the next batch starts on new rows; a reserved patient's
            // course gets no nudge (nothing more is asked of them).
            try db.execute(
                sql: """
                    INSERT INTO temp.nudge_batch (course_id, since, reserved)
                    SELECT k.course_id, k.since, p.reserved_at IS NOT NULL FROM nudge_counts k
                    JOIN courses c ON c.id = k.course_id JOIN patients p ON p.id = c.patient_id
                    WHERE k.milestone = ? AND k.nudged = 0 AND k.since <= ?
                    ORDER BY k.since LIMIT ?
                    """, arguments: [milestone, cutoff, limit])
            let examined = db.changesCount
            guard examined > 0 else { return (0, 0) }
            try db.execute(
                sql: "UPDATE nudge_counts SET nudged = 1 WHERE milestone = ? AND course_id IN (SELECT course_id FROM temp.nudge_batch)",
                arguments: [milestone])
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO clinician_nudges (course_id, milestone, due_date, created_at)
                    SELECT course_id, ?, date(since, ?), ? FROM temp.nudge_batch WHERE reserved = 0
                    """, arguments: [milestone, "+\(afterDays) days", at.seconds])
            return (db.changesCount, examined)
        }
    }
}
