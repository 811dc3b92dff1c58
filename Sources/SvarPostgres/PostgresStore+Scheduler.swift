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

    /// The batch is picked and locked by one query, then moved by one statement: every invitation's state, its
    /// history, its overdue reminders and its outbox row together (a round trip per batch, not five per
    /// invitation). The outbox ids and payloads are made here, as for every other outbox row.
    public func openDue(now: Date, limit: Int) async throws -> (invited: Int, staleRemindersCancelled: Int) {
        let counts = try await transaction { tx in
            let rows = try await tx.rows(WorkerQuery.opening(now: now, limit: limit))
            guard !rows.isEmpty else { return [0, 0] }
            let ids = try rows.map { try $0.decode("id", as: String.self) }
            let patients = try rows.map { try $0.decode("patient_id", as: String.self) }
            let payloads = try ids.map { try OutboxPayload(invitation: $0).json() }
            let outboxIds = ids.map { _ in RecordId.make() }
            let stale =
                try await tx.value(
                    """
                    WITH batch AS (
                        SELECT * FROM unnest(\(ids)::text[], \(patients)::text[], \(outboxIds)::text[], \(payloads)::text[])
                            AS b(id, patient_id, outbox_id, payload)
                    ), moved AS (
                        UPDATE invitations i SET state = 'invited', updated_at = \(now.seconds) FROM batch WHERE i.id = batch.id
                        RETURNING i.id
                    ), history AS (
                        INSERT INTO invitation_history (invitation_id, at, from_state, to_state, cause, actor)
                        SELECT id, \(now.seconds), 'scheduled', 'invited', 'the answer window opened', 'scheduler' FROM batch
                    ), queued AS (
                        INSERT INTO outbox (id, kind, patient_id, invitation_id, idempotency_key, payload, state, attempts,
                                            next_attempt_at, created_at, updated_at)
                        SELECT outbox_id, 'invitation', patient_id, id, 'invitation:' || id, payload, 'queued', 0,
                            \(now.seconds), \(now.seconds), \(now.seconds)
                        FROM batch ON CONFLICT DO NOTHING
                    ), stale AS (
                        -- A window opened late (a back-dated event) must not fire its overdue reminders at once.
                        UPDATE reminders r SET state = 'cancelled' FROM batch
                        WHERE r.invitation_id = batch.id AND r.state = 'pending' AND r.due_at <= \(now.seconds)
                        RETURNING 1
                    )
                    SELECT count(*) FROM stale
                    """, as: Int64.self) ?? 0
            return [rows.count, Int(stale)]
        }
        return (counts[0], counts[1])
    }

    /// As `openDue`: one statement moves the whole batch. Two reminders of one invitation due together are both
    /// sent, each with its own history row (the second from `reminded`), as a row at a time would.
    public func remindDue(now: Date, limit: Int) async throws -> Int {
        try await transaction { tx in
            // Reminders of invitations that ended since they were planned are left pending (see `transition`): those
            // now due are marked cancelled here, so they leave the due index instead of being passed over each time.
            try await tx.execute(
                """
                UPDATE reminders r SET state = 'cancelled' FROM invitations i
                WHERE r.state = 'pending' AND r.due_at <= \(now.seconds) AND i.id = r.invitation_id
                    AND i.state IN ('completed', 'expired', 'declined', 'cancelled')
                """)
            let rows = try await tx.rows(WorkerQuery.reminding(now: now, limit: limit))
            guard !rows.isEmpty else { return 0 }
            let ids = try rows.map { try $0.decode("invitation_id", as: String.self) }
            let seqs = try rows.map { try $0.decode("seq", as: Int64.self) }
            let patients = try rows.map { try $0.decode("patient_id", as: String.self) }
            let states = try rows.map { try $0.decode("state", as: String.self) }
            let payloads = try zip(ids, seqs).map { try OutboxPayload(invitation: $0, reminder: Int($1)).json() }
            let outboxIds = ids.map { _ in RecordId.make() }
            try await tx.execute(
                """
                WITH batch AS (
                    SELECT b.*, row_number() OVER (PARTITION BY b.id ORDER BY b.seq) AS nth
                    FROM unnest(\(ids)::text[], \(seqs)::bigint[], \(patients)::text[], \(states)::text[], \(outboxIds)::text[],
                        \(payloads)::text[]) AS b(id, seq, patient_id, state, outbox_id, payload)
                ), sent AS (
                    UPDATE reminders r SET state = 'sent' FROM batch WHERE r.invitation_id = batch.id AND r.seq = batch.seq
                ), moved AS (
                    UPDATE invitations i SET state = 'reminded', updated_at = \(now.seconds), reminders_sent = reminders_sent + n.count
                    FROM (SELECT id, count(*) AS count FROM batch GROUP BY id) n WHERE i.id = n.id
                ), history AS (
                    INSERT INTO invitation_history (invitation_id, at, from_state, to_state, cause, actor)
                    SELECT id, \(now.seconds), CASE WHEN nth = 1 THEN state ELSE 'reminded' END, 'reminded', 'reminder ' || seq,
                        'scheduler'
                    FROM batch ORDER BY id, seq
                )
                INSERT INTO outbox (id, kind, patient_id, invitation_id, idempotency_key, payload, state, attempts, next_attempt_at,
                                    created_at, updated_at)
                SELECT outbox_id, 'reminder', patient_id, id, 'reminder:' || id || ':' || seq, payload, 'queued', 0,
                    \(now.seconds), \(now.seconds), \(now.seconds)
                FROM batch ON CONFLICT DO NOTHING
                """)
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
            try await tx.execute("DELETE FROM nudge_watermarks WHERE milestone = \(milestone)")
            let counted = try await tx.count(
                """
                INSERT INTO nudge_counts (course_id, milestone, since)
                SELECT e.course_id, \(milestone), MAX(e.date)
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

    /// One statement over the counts that came due since the watermark, then the watermark moves to today's
    /// cutoff. Instances ticking at once take the milestone's lock in turn: the second finds the work done.
    /// A large catch-up is written through `catchUpWriters` connections side by side, each a range of course ids
    /// in its own transaction; the watermark moves only after every range is in. A range that went in before a
    /// failure is not raised twice on the next pass: the statement leaves out nudges already there.
    public func raiseNudges(milestone: String, afterDays: Int, today: LocalDate, at: Date) async throws -> Int {
        try await raiseNudges(milestone: milestone, afterDays: afterDays, today: today, at: at) { tx, after, through in
            try await self.catchUpRanges(tx, milestone: milestone, after: after, through: through)
        }
    }

    /// `ranges` chooses the course id ranges written side by side (tests choose their own).
    func raiseNudges(
        milestone: String, afterDays: Int, today: LocalDate, at: Date,
        ranges: (Transaction, _ after: String, _ through: String) async throws -> [CourseIdRange]
    ) async throws -> Int {
        try await transaction { tx in
            try await tx.execute("SELECT pg_advisory_xact_lock(\(PostgresMigrations.lockKey + 2), hashtext(\(milestone)))")
            let cutoff = today.adding(days: -afterDays).description
            let through =
                try await tx.value("SELECT raised_through FROM nudge_watermarks WHERE milestone = \(milestone)", as: String.self) ?? ""
            guard through < cutoff else { return 0 }
            let parts = try await ranges(tx, through, cutoff)
            let raised = try await withThrowingTaskGroup(of: Int.self) { group in
                for range in parts.dropFirst() {
                    group.addTask {
                        try await self.transaction { other in
                            try await Self.raise(
                                other, milestone: milestone, afterDays: afterDays, after: through, through: cutoff, courses: range, at: at)
                        }
                    }
                }
                var raised = try await Self.raise(
                    tx, milestone: milestone, afterDays: afterDays, after: through, through: cutoff, courses: parts.first ?? .all, at: at)
                for try await other in group { raised += other }
                return raised
            }
            try await tx.execute(
                """
                INSERT INTO nudge_watermarks (milestone, raised_through) VALUES (\(milestone), \(cutoff))
                ON CONFLICT (milestone) DO UPDATE SET raised_through = excluded.raised_through
                """)
            return raised
        }
    }

    private static func raise(
        _ tx: Transaction, milestone: String, afterDays: Int, after: String, through: String, courses: CourseIdRange, at: Date
    ) async throws -> Int {
        // A catch-up sorts hundreds of thousands of course ids: in memory, for this transaction only. The due dates
        // are written as dates cast to text, which is YYYY-MM-DD in the ISO date style, whatever the server's is.
        try await tx.execute("SELECT set_config('work_mem', '256MB', true), set_config('datestyle', 'ISO, YMD', true)")
        let query = WorkerQuery.nudging(
            milestone: milestone, afterDays: afterDays, after: after, through: through, courses: courses, at: at)
        return Int(try await tx.value(query, as: Int64.self) ?? 0)
    }

    /// Splits a large catch-up into `catchUpWriters` ranges of about as many due counts each, from a sample of
    /// 1 % of the table's pages (a few milliseconds over a million counts); a day's nudges stay one range.
    private func catchUpRanges(_ tx: Transaction, milestone: String, after: String, through: String) async throws -> [CourseIdRange] {
        guard catchUpWriters > 1 else { return [.all] }
        let fractions = (1..<catchUpWriters).map { Double($0) / Double(catchUpWriters) }
        guard
            let sample = try await tx.row(
                """
                SELECT count(*) AS sampled, percentile_disc(\(fractions)::float8[]) WITHIN GROUP (ORDER BY k.course_id) AS cuts
                FROM nudge_counts k TABLESAMPLE SYSTEM (1)
                WHERE k.milestone = \(milestone) AND k.since > \(after) AND k.since <= \(through)
                """)
        else { return [.all] }
        return CourseIdRange.ranges(
            sampled: try sample.decode("sampled", as: Int64.self), percent: 1, cuts: try sample.decode("cuts", as: [String]?.self) ?? [])
    }
}

/// Course ids from `from` up to, not including, `before` (nil: no end), in the database's order of the ids.
struct CourseIdRange: Sendable, Equatable {
    var from: String
    var before: String?

    static let all = CourseIdRange(from: "", before: nil)

    /// Below this estimate of due counts, splitting costs more connections than it saves.
    static let worthSplitting = 50_000

    /// The ranges between `cuts` (ascending, in the database's order), or one range when the sample of
    /// `percent` % estimates fewer counts than `worthSplitting`.
    static func ranges(sampled: Int64, percent: Int, cuts: [String]) -> [CourseIdRange] {
        guard sampled * 100 / Int64(percent) >= worthSplitting else { return [.all] }
        var ranges: [CourseIdRange] = []
        var from = ""
        for cut in cuts where cut != from {
            ranges.append(CourseIdRange(from: from, before: cut))
            from = cut
        }
        ranges.append(CourseIdRange(from: from, before: nil))
        return ranges
    }
}
