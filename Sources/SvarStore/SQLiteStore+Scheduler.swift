import Foundation
import GRDB
import SvarDomain

/// The scheduler's passes: each reads due rows through an index on due time, in a bounded batch, and
/// changes them in one transaction together with their history and outbox rows.
extension SQLiteStore {
    public func expireDue(now: Date, limit: Int) async throws -> Int {
        try await db.write { db in
            let ids = try String.fetchAll(db, sql: """
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
            let rows = try Row.fetchAll(db, sql: """
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
                try db.execute(sql: "UPDATE reminders SET state = 'cancelled' WHERE invitation_id = ? AND state = 'pending' AND due_at <= ?",
                               arguments: [id, now.seconds])
                stale += db.changesCount
                try Self.enqueue(db, kind: "invitation", patientId: patientId, invitationId: id, key: "invitation:\(id)",
                                 payload: OutboxPayload(invitation: id), at: now)
            }
            return (rows.count, stale)
        }
    }

    public func remindDue(now: Date, limit: Int) async throws -> Int {
        try await db.write { db in
            let rows = try Row.fetchAll(db, sql: """
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
                try Self.enqueue(db, kind: "reminder", patientId: patientId, invitationId: id, key: "reminder:\(id):\(seq)",
                                 payload: OutboxPayload(invitation: id, reminder: seq), at: now)
            }
            return rows.count
        }
    }

    public func raiseNudges(milestone: String, triggers: [PathwayEventType], afterDays: Int, today: LocalDate, at: Date,
                            limit: Int) async throws -> (raised: Int, examined: Int) {
        try await db.write { db in
            let cutoff = today.adding(days: -afterDays).description
            let rows = try Row.fetchAll(db, sql: """
                SELECT c.id, c.last_trigger_date, p.reserved_at FROM courses c JOIN patients p ON p.id = c.patient_id
                WHERE c.status = 'active' AND c.nudge_open = 0 AND c.last_trigger_date IS NOT NULL AND c.last_trigger_date <= ?
                ORDER BY c.last_trigger_date LIMIT ?
                """, arguments: [cutoff, limit])
            var raised = 0
            for row in rows {
                // Every candidate leaves the index, so the next batch starts on new rows; a reserved patient's
                // course gets no nudge (nothing more is asked of them).
                try db.execute(sql: "UPDATE courses SET nudge_open = 1 WHERE id = ?", arguments: [row["id"] as String])
                if row["reserved_at"] as Int64? != nil { continue }
                raised += 1
                let last = LocalDate(iso: row["last_trigger_date"]) ?? today
                try db.execute(sql: "INSERT OR IGNORE INTO clinician_nudges (course_id, due_date, created_at) VALUES (?, ?, ?)",
                               arguments: [row["id"] as String, last.adding(days: afterDays).description, at.seconds])
            }
            return (raised, rows.count)
        }
    }
}
