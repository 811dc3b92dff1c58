import PostgresNIO
import SvarStore

/// The PostgreSQL schema, as named migrations that are only ever appended to (never edited once released).
///
/// A new engine starts at the SQLite schema's current level, so its first migration carries the whole schema
/// under the name of the latest SQLite migration. Text that is ordered or compared is `COLLATE "C"` (bytewise,
/// as SQLite compares), whatever the database's locale.
enum PostgresMigrations {
    /// Both numbers of the advisory lock: Svar's migrations ("svar" in ASCII), and the schema's hash beside it.
    static let lockKey: Int32 = 0x7376_6172

    static let all: [(name: String, statements: [String])] = [
        ("2026-12-05-11-nudges-by-milestone", PostgresSchema.core + PostgresSchema.people + PostgresSchema.work + PostgresSchema.logs),
        (
            "2026-12-06-15-safety-flags",
            [
                // Safety-relevant answers, recorded with the submission; a clinician's mark that they have seen one.
                """
                CREATE TABLE safety_flags (
                    response_id TEXT COLLATE "C" PRIMARY KEY REFERENCES responses(id),
                    items TEXT NOT NULL,
                    seen_at BIGINT,
                    seen_by TEXT
                )
                """,
                "CREATE INDEX safety_flags_unseen ON safety_flags(response_id) WHERE seen_at IS NULL",
            ]
        ),
        (
            "2026-12-06-16-contact-notes",
            [
                // What the clinician wrote about reaching the patient another way, and the day it happened.
                "ALTER TABLE follow_up_contacts ADD COLUMN note TEXT NOT NULL DEFAULT ''",
                "ALTER TABLE follow_up_contacts ADD COLUMN contacted_on TEXT",
            ]
        ),
        (
            "2026-12-06-17-step-views",
            [
                // Paradata: when each step of an invitation was first shown and first saved (no answers).
                """
                CREATE TABLE step_views (
                    invitation_id TEXT NOT NULL REFERENCES invitations(id),
                    step INTEGER NOT NULL,
                    first_shown_at BIGINT NOT NULL,
                    first_saved_at BIGINT,
                    PRIMARY KEY (invitation_id, step)
                )
                """
            ]
        ),
        (
            "2026-12-06-18-nudge-watermarks",
            [
                // Per milestone, the date through which every count has had its nudge raised (see the SQLite
                // migration of the same name): the pass raises what came due since in one statement.
                "CREATE TABLE nudge_watermarks (milestone TEXT COLLATE \"C\" PRIMARY KEY, raised_through TEXT COLLATE \"C\" NOT NULL)",
                "DROP INDEX nudge_count_candidates",
                "ALTER TABLE nudge_counts DROP COLUMN nudged",
                "CREATE INDEX nudge_counts_due ON nudge_counts(milestone, since) INCLUDE (course_id)",
                "CREATE INDEX patients_reserved ON patients(id) WHERE reserved_at IS NOT NULL",
                // The course check cost PostgreSQL a trigger call per row, half of a catch-up's 750,000 nudges.
                // Every nudge is raised from its course's count (which keeps its own reference to the course) in
                // the same transaction, and erasing a patient deletes their nudges before their courses.
                "ALTER TABLE clinician_nudges DROP CONSTRAINT clinician_nudges_course_id_fkey",
            ]
        ),
        (
            "2026-12-07-19-step-views-collation",
            [
                // The column was created without `COLLATE "C"`, so the patient page's look-up (invitations.id is
                // "C") could not use the key and read the whole table, twice per page view (bench/http: 228 pages/s).
                "ALTER TABLE step_views ALTER COLUMN invitation_id TYPE TEXT COLLATE \"C\""
            ]
        ),
        (
            "2026-12-07-20-nudges-without-open-index",
            [
                // The key (course_id first) finds a course's open nudges as well, and a catch-up's 750,000 nudges
                // went into this index too: a third of its WAL. Resolving a nudge is now a HOT update.
                "DROP INDEX clinician_nudges_open"
            ]
        ),
        (
            "2026-12-08-22-links-without-use-time",
            [
                // Written at every submission, read nowhere: the invitation's state makes a link one-time, and its
                // history keeps when it was completed.
                "ALTER TABLE invitation_links DROP COLUMN used_at"
            ]
        ),
    ]
}

extension PostgresStore {
    /// Creates the schema (if this store has one) and applies pending migrations, all in one transaction holding
    /// an advisory lock: instances starting at once wait for each other, and each finds the work done or does it.
    public func migrate() async throws {
        // The lock comes before anything resolves the schema's name (so the search path is set only once the schema
        // is there): a backend that looked a missing schema up keeps that answer in its catalog cache, and after
        // waiting for the lock would try to create the schema a second time.
        try await client.transaction(schema: nil, logger: logger) { tx in
            // A migration may take long, and the instances starting beside it must wait for it, not give up: the
            // session limits (`SessionLimits`) do not apply to this one transaction.
            try await tx.execute("SELECT set_config('lock_timeout', '0', true), set_config('statement_timeout', '0', true)")
            try await tx.execute("SELECT pg_advisory_xact_lock(\(PostgresMigrations.lockKey), hashtext(\(schema ?? "")))")
            if let schema {
                // The name passed `checkSchemaName` (lower-case letters, digits, underscores): safe as an identifier.
                try await tx.execute(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"))
                try await tx.execute("SELECT set_config('search_path', \(schema), true)")
            }
            try await tx.execute(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    name TEXT COLLATE "C" PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                )
                """)
            let applied = Set(try await tx.rows("SELECT name FROM schema_migrations").map { try $0.decode("name", as: String.self) })
            for migration in PostgresMigrations.all where !applied.contains(migration.name) {
                for statement in migration.statements {
                    try await tx.execute(PostgresQuery(unsafeSQL: statement))
                }
                try await tx.execute("INSERT INTO schema_migrations (name) VALUES (\(migration.name))")
            }
        }
    }
}
