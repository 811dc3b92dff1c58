import Foundation
import PostgresNIO
import SvarDomain

/// The queries the workers run again and again over the biggest tables: each finds due rows through an index on
/// due time and locks a bounded batch with `SKIP LOCKED`. Kept together so `WorkerQueryPlanTests` can show (with
/// `EXPLAIN`) that every one of them is served by an index, and docs/postgresql.md can print the plans.
enum WorkerQuery {
    /// Not a worker's, but the read every patient page makes: the link, its invitation, the patient's language
    /// and a row per draft (if any), with the steps already shown and saved. Here so its plan is checked too.
    static func linkLookup(invitationId: String, nonceHash: [UInt8]) throws -> PostgresQuery {
        try """
        SELECT i.id, i.patient_id, i.instruments, i.state, i.closes_at, p.language, d.instrument AS draft, d.answers,
            v.shown, v.saved
        FROM invitation_links l JOIN invitations i ON i.id = l.invitation_id JOIN patients p ON p.id = i.patient_id
            CROSS JOIN LATERAL (
                SELECT string_agg(step::text, ',') AS shown,
                    string_agg(step::text, ',') FILTER (WHERE first_saved_at IS NOT NULL) AS saved
                FROM step_views WHERE invitation_id = i.id) v
            LEFT JOIN answer_drafts d ON d.invitation_id = i.id
        WHERE l.nonce_hash = \(Data(nonceHash)) AND l.invitation_id = \(invitationId)
        """
    }

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
        SELECT r.invitation_id, r.seq, i.patient_id, i.state FROM reminders r JOIN invitations i ON i.id = r.invitation_id
        WHERE r.state = 'pending' AND r.due_at <= \(now.seconds) AND i.state IN ('invited', 'reminded', 'opened')
            AND i.closes_at > \(now.seconds)
        ORDER BY r.due_at LIMIT \(Int64(limit))
        FOR UPDATE OF r, i SKIP LOCKED
        """
    }

    /// The nudges of the counts of `milestone` that came due in (`after`, `through`], for the courses whose id is
    /// in `courses` (a catch-up is split into ranges written side by side); a reserved patient's course
    /// gets none. Returns one row, `raised`: the count of nudges raised (not a row per nudge). A nudge raised
    /// before (the watermark moved back) is left out by an anti-join rather than `ON CONFLICT`, whose per-row
    /// speculative insertion doubled the cost; the caller holds the milestone's lock, so no one inserts beside it.
    /// In course order, the new rows go into the indexes in key order. The due date is date arithmetic and casts
    /// (the caller sets the ISO date style): `to_char(to_date(…))` cost 0.2 s more over 750,000 rows.
    static func nudging(
        milestone: String, afterDays: Int, after: String, through: String, courses: CourseIdRange = .all, at: Date
    ) -> PostgresQuery {
        """
        WITH due AS (
            SELECT k.course_id, (k.since::date + \(Int32(afterDays)))::text AS due_date
            FROM nudge_counts k
            WHERE k.milestone = \(milestone) AND k.since > \(after) AND k.since <= \(through)
              AND k.course_id >= \(courses.from) AND (\(courses.before)::text IS NULL OR k.course_id < \(courses.before))
              AND k.course_id NOT IN (
                  SELECT c.id FROM courses c JOIN patients p ON p.id = c.patient_id WHERE p.reserved_at IS NOT NULL)
        ), raised AS (
            INSERT INTO clinician_nudges (course_id, milestone, due_date, created_at)
            SELECT course_id, \(milestone), due_date, \(at.seconds) FROM due
            WHERE NOT EXISTS (
                SELECT 1 FROM clinician_nudges n WHERE n.course_id = due.course_id AND n.milestone = \(milestone)
                    AND n.due_date = due.due_date)
            ORDER BY course_id
            RETURNING 1
        )
        SELECT count(*) AS raised FROM raised
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
