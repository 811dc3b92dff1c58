import Foundation
import PostgresNIO
import SvarDomain

/// The queries the workers run again and again over the biggest tables: each finds due rows through an index on
/// due time and locks a bounded batch with `SKIP LOCKED`. Kept together so `WorkerQueryPlanTests` can show (with
/// `EXPLAIN`) that every one of them is served by an index, and docs/postgresql.md can print the plans.
enum WorkerQuery {
    static func expiring(now: Date, limit: Int) -> PostgresQuery {
        """
        SELECT id FROM invitations
        WHERE closes_at <= \(now.seconds) AND state IN ('scheduled', 'invited', 'reminded', 'opened', 'unreachable')
        ORDER BY closes_at LIMIT \(Int64(limit))
        FOR UPDATE SKIP LOCKED
        """
    }

    static func opening(now: Date, limit: Int) -> PostgresQuery {
        """
        SELECT i.id, i.patient_id FROM invitations i
        WHERE i.state = 'scheduled' AND i.opens_at <= \(now.seconds) AND i.closes_at > \(now.seconds)
        ORDER BY i.opens_at LIMIT \(Int64(limit))
        FOR UPDATE SKIP LOCKED
        """
    }

    static func reminding(now: Date, limit: Int) -> PostgresQuery {
        """
        SELECT r.invitation_id, r.seq, i.patient_id FROM reminders r JOIN invitations i ON i.id = r.invitation_id
        WHERE r.state = 'pending' AND r.due_at <= \(now.seconds) AND i.state IN ('invited', 'reminded', 'opened')
            AND i.closes_at > \(now.seconds)
        ORDER BY r.due_at LIMIT \(Int64(limit))
        FOR UPDATE OF r SKIP LOCKED
        """
    }

    static func nudging(milestone: String, afterDays: Int, cutoff: String, at: Date, limit: Int) -> PostgresQuery {
        """
        WITH picked AS (
            SELECT k.course_id, k.since, p.reserved_at FROM nudge_counts k
            JOIN courses c ON c.id = k.course_id JOIN patients p ON p.id = c.patient_id
            WHERE k.milestone = \(milestone) AND NOT k.nudged AND k.since <= \(cutoff)
            ORDER BY k.since LIMIT \(Int64(limit))
            FOR UPDATE OF k SKIP LOCKED
        ), marked AS (
            UPDATE nudge_counts k SET nudged = true FROM picked
            WHERE k.course_id = picked.course_id AND k.milestone = \(milestone)
            RETURNING 1
        ), raised AS (
            INSERT INTO clinician_nudges (course_id, milestone, due_date, created_at)
            SELECT course_id, \(milestone), to_char(to_date(since, 'YYYY-MM-DD') + \(Int32(afterDays)), 'YYYY-MM-DD'),
                \(at.seconds)
            FROM picked WHERE reserved_at IS NULL
            ON CONFLICT DO NOTHING RETURNING 1
        )
        SELECT (SELECT count(*) FROM marked) AS examined, (SELECT count(*) FROM raised) AS raised
        """
    }

    static func deliveries(kinds: [String], now: Date, limit: Int) -> PostgresQuery {
        """
        SELECT o.*, p.language, p.reserved_at, i.state AS invitation_state, i.closes_at, c.unit
        FROM outbox o JOIN patients p ON p.id = o.patient_id LEFT JOIN invitations i ON i.id = o.invitation_id
        LEFT JOIN courses c ON c.id = i.course_id
        WHERE o.state IN ('queued', 'sending') AND o.next_attempt_at <= \(now.seconds) AND o.kind = ANY(\(kinds))
        ORDER BY o.next_attempt_at LIMIT \(Int64(limit))
        FOR UPDATE OF o SKIP LOCKED
        """
    }

    static func forwards(now: Date, limit: Int) -> PostgresQuery {
        """
        SELECT o.id, o.kind, o.patient_id, o.response_id, o.attempts, p.reserved_at
        FROM outbox o JOIN patients p ON p.id = o.patient_id
        WHERE o.state = 'queued' AND o.kind IN ('forward', 'erase') AND o.next_attempt_at <= \(now.seconds)
        ORDER BY o.next_attempt_at, o.created_at LIMIT \(Int64(limit))
        FOR UPDATE OF o SKIP LOCKED
        """
    }
}
