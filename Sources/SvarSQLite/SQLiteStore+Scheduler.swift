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
            // Reminders of invitations that ended since they were planned are left pending (see `transition`): those
            // now due are marked cancelled here, so they leave the due index instead of being passed over each time.
            try db.execute(
                sql: """
                    UPDATE reminders SET state = 'cancelled'
                    WHERE state = 'pending' AND due_at <= ?
                        AND EXISTS (
                            SELECT 1 FROM invitations i WHERE i.id = reminders.invitation_id
                                AND i.state IN ('completed', 'expired', 'declined', 'cancelled'))
                    """, arguments: [now.seconds])
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
            try db.execute(sql: "DELETE FROM nudge_watermarks WHERE milestone = ?", arguments: [milestone])
            let types = countsFrom.map(\.rawValue)
            let marks = types.map { _ in "?" }.joined(separator: ", ")
            try db.execute(
                sql: """
                    INSERT INTO nudge_counts (course_id, milestone, since)
                    SELECT e.course_id, ?, MAX(e.date)
                    FROM pathway_events e JOIN courses c ON c.id = e.course_id
                    WHERE c.status = 'active' AND e.type IN (\(marks)) GROUP BY e.course_id
                    """, arguments: StatementArguments([milestone] + types))
            let counted = db.changesCount
            try db.execute(
                sql:
                    "INSERT INTO nudge_rules (milestone, counts_from) VALUES (?, ?) ON CONFLICT (milestone) DO UPDATE SET "
                    + "counts_from = excluded.counts_from",
                arguments: [milestone, rule])
            return counted
        }
    }

    /// One statement over the counts that came due since the watermark, in course order (so the new nudges go
    /// into their indexes in key order, not scattered), then the watermark moves to today's cutoff.
    public func raiseNudges(milestone: String, afterDays: Int, today: LocalDate, at: Date) async throws -> Int {
        try await db.write { db in
            let cutoff = today.adding(days: -afterDays).description
            let through =
                try String.fetchOne(db, sql: "SELECT raised_through FROM nudge_watermarks WHERE milestone = ?", arguments: [milestone])
                ?? ""
            guard through < cutoff else { return 0 }
            // A reserved patient's course gets no nudge: nothing more is asked of them.
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO clinician_nudges (course_id, milestone, due_date, created_at)
                    SELECT k.course_id, k.milestone, date(k.since, ?), ? FROM nudge_counts k
                    WHERE k.milestone = ? AND k.since > ? AND k.since <= ?
                      AND k.course_id NOT IN (
                          SELECT c.id FROM courses c JOIN patients p ON p.id = c.patient_id WHERE p.reserved_at IS NOT NULL)
                    ORDER BY k.course_id
                    """, arguments: ["+\(afterDays) days", at.seconds, milestone, through, cutoff])
            let raised = db.changesCount
            try db.execute(
                sql: """
                    INSERT INTO nudge_watermarks (milestone, raised_through) VALUES (?, ?)
                    ON CONFLICT (milestone) DO UPDATE SET raised_through = excluded.raised_through
                    """, arguments: [milestone, cutoff])
            return raised
        }
    }
}
