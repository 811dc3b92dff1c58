import GRDB
import SvarStore

/// The SQLite schema, as named migrations that are only ever appended to (never edited once released).
enum SQLiteMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("2026-11-22-01-core") { db in
            try db.execute(
                sql: """
                    CREATE TABLE units (
                        resh TEXT PRIMARY KEY,
                        name TEXT NOT NULL,
                        parent TEXT REFERENCES units(resh),
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE patients (
                        id TEXT PRIMARY KEY,
                        language TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        reserved_at INTEGER,
                        deletion_requested_at INTEGER
                    );
                    -- Direct identifiers live only here, sealed (§ 5-2); lookup_hash is a keyed HMAC, not the number.
                    CREATE TABLE identity_vault (
                        patient_id TEXT PRIMARY KEY REFERENCES patients(id) ON DELETE CASCADE,
                        lookup_hash BLOB NOT NULL UNIQUE,
                        key_id TEXT NOT NULL,
                        sealed BLOB NOT NULL
                    );
                    CREATE TABLE reservation_tombstones (
                        lookup_hash BLOB PRIMARY KEY,
                        reserved_at INTEGER NOT NULL
                    );
                    CREATE TABLE courses (
                        id TEXT PRIMARY KEY,
                        patient_id TEXT NOT NULL REFERENCES patients(id),
                        unit TEXT NOT NULL REFERENCES units(resh),
                        type TEXT NOT NULL,
                        status TEXT NOT NULL,
                        last_trigger_date TEXT,
                        created_at INTEGER NOT NULL
                    );
                    CREATE INDEX courses_patient ON courses(patient_id);
                    CREATE INDEX courses_nudge ON courses(status, last_trigger_date);
                    CREATE TABLE pathway_events (
                        id TEXT PRIMARY KEY,
                        course_id TEXT NOT NULL REFERENCES courses(id),
                        type TEXT NOT NULL,
                        date TEXT NOT NULL,
                        unit TEXT NOT NULL REFERENCES units(resh),
                        npr_code TEXT,
                        recorded_by TEXT NOT NULL,
                        recorded_at INTEGER NOT NULL,
                        seq INTEGER NOT NULL
                    );
                    CREATE INDEX pathway_events_course ON pathway_events(course_id, seq);
                    CREATE TABLE invitations (
                        id TEXT PRIMARY KEY,
                        course_id TEXT NOT NULL REFERENCES courses(id),
                        patient_id TEXT NOT NULL REFERENCES patients(id),
                        milestone TEXT NOT NULL,
                        instruments TEXT NOT NULL,
                        trigger_event_id TEXT NOT NULL REFERENCES pathway_events(id),
                        due_date TEXT NOT NULL,
                        state TEXT NOT NULL,
                        reminders_sent INTEGER NOT NULL DEFAULT 0,
                        cancel_reason TEXT,
                        opens_at INTEGER NOT NULL,
                        closes_at INTEGER NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        UNIQUE (course_id, milestone, trigger_event_id)
                    );
                    CREATE INDEX invitations_course ON invitations(course_id);
                    CREATE INDEX invitations_patient ON invitations(patient_id, state);
                    CREATE INDEX invitations_to_open ON invitations(opens_at) WHERE state = 'scheduled';
                    CREATE INDEX invitations_to_close ON invitations(closes_at)
                        WHERE state IN ('scheduled', 'invited', 'reminded', 'opened', 'unreachable');
                    CREATE TABLE invitation_history (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        invitation_id TEXT NOT NULL REFERENCES invitations(id),
                        at INTEGER NOT NULL,
                        from_state TEXT,
                        to_state TEXT NOT NULL,
                        cause TEXT NOT NULL,
                        actor TEXT NOT NULL
                    );
                    CREATE INDEX invitation_history_invitation ON invitation_history(invitation_id, id);
                    CREATE TABLE reminders (
                        invitation_id TEXT NOT NULL REFERENCES invitations(id),
                        seq INTEGER NOT NULL,
                        due_at INTEGER NOT NULL,
                        state TEXT NOT NULL,
                        PRIMARY KEY (invitation_id, seq)
                    );
                    CREATE INDEX reminders_due ON reminders(due_at) WHERE state = 'pending';
                    CREATE TABLE responses (
                        id TEXT PRIMARY KEY,
                        invitation_id TEXT NOT NULL REFERENCES invitations(id),
                        instrument TEXT NOT NULL,
                        instrument_version TEXT NOT NULL,
                        answers TEXT NOT NULL,
                        respondent TEXT NOT NULL,
                        language TEXT NOT NULL,
                        submitted_at INTEGER NOT NULL,
                        UNIQUE (invitation_id, instrument)
                    );
                    CREATE TABLE scores (
                        response_id TEXT NOT NULL REFERENCES responses(id),
                        key TEXT NOT NULL,
                        number TEXT,
                        flag INTEGER,
                        items_answered INTEGER,
                        items_in_scale INTEGER,
                        algorithm TEXT NOT NULL,
                        value_set TEXT,
                        PRIMARY KEY (response_id, key)
                    );
                    CREATE TABLE audit_log (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        at INTEGER NOT NULL,
                        actor TEXT NOT NULL,
                        action TEXT NOT NULL,
                        subject TEXT NOT NULL,
                        detail TEXT NOT NULL
                    );
                    CREATE INDEX audit_log_subject ON audit_log(subject, id);
                    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
                        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    CREATE TABLE outbox (
                        id TEXT PRIMARY KEY,
                        kind TEXT NOT NULL,
                        patient_id TEXT NOT NULL,
                        invitation_id TEXT,
                        idempotency_key TEXT NOT NULL UNIQUE,
                        payload TEXT NOT NULL,
                        state TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at INTEGER NOT NULL,
                        last_error TEXT,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE state = 'queued';
                    CREATE INDEX outbox_patient ON outbox(patient_id);
                    CREATE TABLE clinician_nudges (
                        course_id TEXT NOT NULL REFERENCES courses(id),
                        due_date TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        resolved_at INTEGER,
                        PRIMARY KEY (course_id, due_date)
                    );
                    CREATE TABLE deletion_requests (
                        patient_id TEXT PRIMARY KEY REFERENCES patients(id),
                        requested_at INTEGER NOT NULL,
                        deadline INTEGER NOT NULL,
                        state TEXT NOT NULL
                    );
                    CREATE TABLE signing_keys (
                        id INTEGER PRIMARY KEY,
                        created_at INTEGER NOT NULL,
                        key_id TEXT NOT NULL,
                        sealed BLOB NOT NULL
                    );
                    CREATE TABLE invitation_links (
                        nonce_hash BLOB PRIMARY KEY,
                        invitation_id TEXT NOT NULL REFERENCES invitations(id),
                        expires_at INTEGER NOT NULL,
                        created_at INTEGER NOT NULL,
                        used_at INTEGER
                    );
                    CREATE INDEX invitation_links_invitation ON invitation_links(invitation_id);
                    """)
        }
        migrator.registerMigration("2026-11-22-02-answering") { db in
            try db.execute(
                sql: """
                    -- Answers saved step by step before submission (save and resume); deleted on submission.
                    CREATE TABLE answer_drafts (
                        invitation_id TEXT NOT NULL REFERENCES invitations(id),
                        instrument TEXT NOT NULL,
                        answers TEXT NOT NULL,
                        language TEXT NOT NULL,
                        updated_at INTEGER NOT NULL,
                        PRIMARY KEY (invitation_id, instrument)
                    );
                    """)
        }
        migrator.registerMigration("2026-11-22-03-second-factor") { db in
            try db.execute(
                sql: """
                    -- Failed second-factor attempts per invitation (five lock the link for 15 minutes) and the hash of
                    -- the current one-time code, if the protocol uses codes.
                    CREATE TABLE link_factor (
                        invitation_id TEXT PRIMARY KEY REFERENCES invitations(id),
                        failures INTEGER NOT NULL DEFAULT 0,
                        locked_until INTEGER,
                        code_hash BLOB,
                        code_expires_at INTEGER
                    );
                    """)
        }
        migrator.registerMigration("2026-11-22-04-outbox-by-invitation") { db in
            // Ending an invitation cancels its queued notifications: find them without scanning the outbox.
            try db.execute(sql: "CREATE INDEX outbox_invitation ON outbox(invitation_id) WHERE state = 'queued'")
        }
        migrator.registerMigration("2026-11-22-05-delivery") { db in
            try db.execute(
                sql: """
                    -- Which of the patient's channels the item is on, where it went, and why earlier channels failed.
                    ALTER TABLE outbox ADD COLUMN channel_index INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE outbox ADD COLUMN channel TEXT;
                    ALTER TABLE outbox ADD COLUMN message_id TEXT;
                    ALTER TABLE outbox ADD COLUMN failures TEXT NOT NULL DEFAULT '';
                    ALTER TABLE outbox ADD COLUMN sent_at INTEGER;
                    CREATE INDEX outbox_failed ON outbox(updated_at) WHERE state = 'failed';
                    """)
        }
        migrator.registerMigration("2026-11-22-06-nudge-index") { db in
            try db.execute(
                sql: """
                    -- Courses that may need a nudge are exactly the active ones without an open nudge: a partial index
                    -- over them lets each pass read only candidates (it scanned every nudged course before).
                    ALTER TABLE courses ADD COLUMN nudge_open INTEGER NOT NULL DEFAULT 0;
                    UPDATE courses SET nudge_open = 1 WHERE id IN (SELECT course_id FROM clinician_nudges WHERE resolved_at IS NULL);
                    CREATE INDEX courses_nudge_candidates ON courses(last_trigger_date) WHERE status = 'active' AND nudge_open = 0;
                    -- The old index served only the nudge query; left in place, the planner (without statistics) keeps
                    -- choosing it and scans every nudged course again.
                    DROP INDEX courses_nudge;
                    """)
        }
        migrator.registerMigration("2026-12-01-07-forwarding") { db in
            try db.execute(
                sql: """
                    -- One forward per response (its own Bundle, Idempotency-Key and dead-letter entry), not per invitation.
                    ALTER TABLE outbox ADD COLUMN response_id TEXT;
                    INSERT OR IGNORE INTO outbox (id, kind, patient_id, invitation_id, idempotency_key, payload, state, attempts,
                                                  next_attempt_at, created_at, updated_at, response_id)
                        SELECT lower(hex(randomblob(16))), 'forward', o.patient_id, o.invitation_id, 'forward:' || r.id,
                               '{"response":"' || r.id || '"}', 'queued', 0, o.next_attempt_at, o.created_at, o.updated_at, r.id
                        FROM outbox o JOIN responses r ON r.invitation_id = o.invitation_id
                        WHERE o.kind = 'forward' AND o.state = 'queued' AND o.response_id IS NULL;
                    UPDATE outbox SET state = 'cancelled', last_error = 'replaced by one forward per response'
                        WHERE kind = 'forward' AND state = 'queued' AND response_id IS NULL;
                    CREATE INDEX outbox_forward_due ON outbox(next_attempt_at) WHERE state = 'queued' AND kind IN ('forward', 'erase');
                    -- § 4-7: every disclosure, kept at least ten years; append-only like the audit log, and kept by a deletion.
                    CREATE TABLE disclosure_log (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        at INTEGER NOT NULL,
                        recipient TEXT NOT NULL,
                        subject TEXT NOT NULL,
                        identified_by TEXT NOT NULL,
                        data_set TEXT NOT NULL,
                        response_id TEXT NOT NULL,
                        basis TEXT NOT NULL,
                        receipt TEXT NOT NULL
                    );
                    CREATE INDEX disclosure_log_subject ON disclosure_log(subject, id);
                    CREATE TRIGGER disclosure_log_no_update BEFORE UPDATE ON disclosure_log
                        BEGIN SELECT RAISE(ABORT, 'the disclosure log is append-only'); END;
                    CREATE TRIGGER disclosure_log_no_delete BEFORE DELETE ON disclosure_log
                        BEGIN SELECT RAISE(ABORT, 'the disclosure log is append-only'); END;
                    ALTER TABLE deletion_requests ADD COLUMN completed_at INTEGER;
                    ALTER TABLE deletion_requests ADD COLUMN erased TEXT NOT NULL DEFAULT '';
                    ALTER TABLE deletion_requests ADD COLUMN kept TEXT NOT NULL DEFAULT '';
                    """)
        }
        migrator.registerMigration("2026-12-01-08-clinicians") { db in
            try db.execute(
                sql: """
                    -- Local accounts (bcrypt; TOTP secret sealed by the vault), their units and sessions (token hashes only).
                    CREATE TABLE users (
                        username TEXT PRIMARY KEY,
                        password_hash TEXT NOT NULL,
                        role TEXT NOT NULL,
                        totp_key_id TEXT,
                        totp_sealed BLOB,
                        disabled_at INTEGER,
                        failed_logins INTEGER NOT NULL DEFAULT 0,
                        locked_until INTEGER,
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE user_units (
                        username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
                        unit TEXT NOT NULL REFERENCES units(resh),
                        PRIMARY KEY (username, unit)
                    );
                    CREATE TABLE sessions (
                        token_hash BLOB PRIMARY KEY,
                        username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
                        csrf TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        last_seen_at INTEGER NOT NULL
                    );
                    -- The follow-up worklist: when a clinician reached the patient by other means.
                    CREATE TABLE follow_up_contacts (
                        invitation_id TEXT PRIMARY KEY REFERENCES invitations(id) ON DELETE CASCADE,
                        at INTEGER NOT NULL,
                        by TEXT NOT NULL
                    );
                    CREATE INDEX courses_unit ON courses(unit, status);
                    """)
        }
        migrator.registerMigration("2026-12-05-09-security") { db in
            try db.execute(
                sql: """
                    -- Login attempts per submitted user name (a keyed hash: unknown names count alike and are never
                    -- stored in clear), checked and counted in one transaction before any password is hashed.
                    CREATE TABLE login_attempts (
                        name_key BLOB PRIMARY KEY,
                        failures INTEGER NOT NULL,
                        locked_until INTEGER,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE INDEX login_attempts_updated ON login_attempts(updated_at);
                    -- Each TOTP time step is accepted once per account.
                    ALTER TABLE users ADD COLUMN totp_last_step INTEGER;
                    -- The patient's second factor: how often the link was locked, and when it was voided for good.
                    ALTER TABLE link_factor ADD COLUMN locks INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE link_factor ADD COLUMN voided_at INTEGER;
                    -- A retired signing key verifies no link.
                    ALTER TABLE signing_keys ADD COLUMN retired_at INTEGER;
                    """)
        }
        migrator.registerMigration("2026-12-05-10-unit-identities") { db in
            try db.execute(
                sql: """
                    -- The identity as each unit registered it (sealed like the vault's): a unit sees its own record,
                    -- never what another unit typed about the same person.
                    CREATE TABLE unit_identities (
                        patient_id TEXT NOT NULL REFERENCES patients(id),
                        unit TEXT NOT NULL REFERENCES units(resh),
                        key_id TEXT NOT NULL,
                        sealed BLOB NOT NULL,
                        updated_at INTEGER NOT NULL,
                        PRIMARY KEY (patient_id, unit)
                    );
                    """)
        }
        migrator.registerMigration("2026-12-05-11-nudges-by-milestone") { db in
            try db.execute(
                sql: """
                    -- A nudge count per course and protocol milestone, restarted by the events the protocol names.
                    CREATE TABLE nudge_counts (
                        course_id TEXT NOT NULL REFERENCES courses(id),
                        milestone TEXT NOT NULL,
                        since TEXT NOT NULL,
                        nudged INTEGER NOT NULL DEFAULT 0,
                        PRIMARY KEY (course_id, milestone)
                    );
                    CREATE INDEX nudge_count_candidates ON nudge_counts(milestone, since) WHERE nudged = 0;
                    -- The events each milestone's counts were built from: a change rebuilds them from the history.
                    CREATE TABLE nudge_rules (
                        milestone TEXT PRIMARY KEY,
                        counts_from TEXT NOT NULL
                    );
                    -- Nudges name their milestone; those raised before are adopted by the first nudging milestone prepared.
                    CREATE TABLE clinician_nudges_by_milestone (
                        course_id TEXT NOT NULL REFERENCES courses(id),
                        milestone TEXT NOT NULL,
                        due_date TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        resolved_at INTEGER,
                        PRIMARY KEY (course_id, milestone, due_date)
                    );
                    INSERT INTO clinician_nudges_by_milestone (course_id, milestone, due_date, created_at, resolved_at)
                        SELECT course_id, '', due_date, created_at, resolved_at FROM clinician_nudges;
                    DROP TABLE clinician_nudges;
                    ALTER TABLE clinician_nudges_by_milestone RENAME TO clinician_nudges;
                    CREATE INDEX clinician_nudges_open ON clinician_nudges(course_id) WHERE resolved_at IS NULL;
                    DROP INDEX courses_nudge_candidates;
                    ALTER TABLE courses DROP COLUMN last_trigger_date;
                    ALTER TABLE courses DROP COLUMN nudge_open;
                    """)
        }
        migrator.registerMigration("2026-12-05-12-value-checks") { db in
            // SQLite cannot add a CHECK constraint to a table it has; these triggers are the same check: a
            // state, kind or role outside the listed values is refused on insert and on update. A new value in
            // the code needs a migration that replaces the trigger (a test tries every case of every enum).
            for check in ValueCheck.all { try db.execute(sql: check.triggers) }
        }
        migrator.registerMigration("2026-12-05-13-sending") { db in
            // A message being sent is `sending` (no longer cancellable); one whose sender died is due again when
            // its lease passes, so the delivery index covers both.
            try db.execute(
                sql: """
                    DROP INDEX outbox_due;
                    CREATE INDEX outbox_delivery_due ON outbox(next_attempt_at) WHERE state IN ('queued', 'sending');
                    """)
        }
        migrator.registerMigration("2026-12-05-14-clinician-language") { db in
            // The language each user chose for the clinician pages; NULL until they choose (bokmål).
            try db.execute(sql: "ALTER TABLE users ADD COLUMN language TEXT CHECK (language IN ('nb', 'nn', 'en'))")
        }
        migrator.registerMigration("2026-12-06-15-safety-flags") { db in
            // Safety-relevant answers, recorded with the submission; a clinician's mark that they have seen one. The
            // partial index holds only the unseen, which the start page lists.
            try db.execute(
                sql: """
                    CREATE TABLE safety_flags (
                        response_id TEXT PRIMARY KEY REFERENCES responses(id),
                        items TEXT NOT NULL,
                        seen_at INTEGER,
                        seen_by TEXT
                    );
                    CREATE INDEX safety_flags_unseen ON safety_flags(response_id) WHERE seen_at IS NULL;
                    """)
        }
        migrator.registerMigration("2026-12-06-16-contact-notes") { db in
            // What the clinician wrote about reaching the patient another way, and the day it happened.
            try db.execute(
                sql: """
                    ALTER TABLE follow_up_contacts ADD COLUMN note TEXT NOT NULL DEFAULT '';
                    ALTER TABLE follow_up_contacts ADD COLUMN contacted_on TEXT;
                    """)
        }
        migrator.registerMigration("2026-12-06-17-step-views") { db in
            // Paradata: when each step of an invitation was first shown and first saved (no answers).
            try db.execute(
                sql: """
                    CREATE TABLE step_views (
                        invitation_id TEXT NOT NULL REFERENCES invitations(id),
                        step INTEGER NOT NULL,
                        first_shown_at INTEGER NOT NULL,
                        first_saved_at INTEGER,
                        PRIMARY KEY (invitation_id, step)
                    );
                    """)
        }
        migrator.registerMigration("2026-12-06-18-nudge-watermarks") { db in
            try db.execute(
                sql: """
                    -- Per milestone, the date through which every count has had its nudge raised: a pass raises the
                    -- counts that came due since, in one statement, instead of marking each course. With no row yet,
                    -- the first pass looks at every count; the nudges already raised are kept by their key.
                    CREATE TABLE nudge_watermarks (
                        milestone TEXT PRIMARY KEY,
                        raised_through TEXT NOT NULL
                    );
                    DROP INDEX nudge_count_candidates;
                    ALTER TABLE nudge_counts DROP COLUMN nudged;
                    -- Covering: the pass reads the course ids of a range of days without touching the table.
                    CREATE INDEX nudge_counts_due ON nudge_counts(milestone, since, course_id);
                    -- Reserved patients are few: the pass excludes their courses through this small index.
                    CREATE INDEX patients_reserved ON patients(id) WHERE reserved_at IS NOT NULL;
                    """)
        }
        // With foreign keys on (`.immediate`): no table refers to the nudges, so nothing needs them off, and the
        // default (off, then `PRAGMA foreign_key_check` over every table) took 20 s on a million courses.
        migrator.registerMigration("2026-12-07-19-nudges-without-rowid", foreignKeyChecks: .immediate) { db in
            try db.execute(
                sql: """
                    -- A catch-up pass writes a nudge per overdue course (750,000 over a million courses). Kept in the
                    -- order of their key (WITHOUT ROWID), the rows are written once instead of into a table and again
                    -- into its key's index. The course reference goes, as on PostgreSQL: every nudge is raised from
                    -- its course's count (which keeps its own reference to the course) in the same transaction, and
                    -- erasing a patient deletes their nudges before their courses. Measured on a copy of
                    -- bench/scheduler's database, the raising statement with its commit: 2.6 s -> 1.9 s.
                    CREATE TABLE clinician_nudges_keyed (
                        course_id TEXT NOT NULL,
                        milestone TEXT NOT NULL,
                        due_date TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        resolved_at INTEGER,
                        PRIMARY KEY (course_id, milestone, due_date)
                    ) WITHOUT ROWID;
                    INSERT INTO clinician_nudges_keyed (course_id, milestone, due_date, created_at, resolved_at)
                        SELECT course_id, milestone, due_date, created_at, resolved_at FROM clinician_nudges;
                    DROP TABLE clinician_nudges;
                    ALTER TABLE clinician_nudges_keyed RENAME TO clinician_nudges;
                    CREATE INDEX clinician_nudges_open ON clinician_nudges(course_id) WHERE resolved_at IS NULL;
                    """)
        }
        migrator.registerMigration("2026-12-07-20-nudges-without-open-index", foreignKeyChecks: .immediate) { db in
            // As on PostgreSQL: the key (course_id first) finds a course's open nudges, and a catch-up pass wrote every
            // nudge into this index as well. Foreign keys stay on: dropping an index breaks no reference, and checking
            // every table afterwards took 20 s on a million courses.
            try db.execute(sql: "DROP INDEX IF EXISTS clinician_nudges_open")
        }
        migrator.registerMigration("2026-12-07-21-fewer-pages-per-submission", foreignKeyChecks: .immediate) { db in
            // A submission writes every page it changes to the WAL, and random pages dominated the one writer's time:
            // 18.7 pages per submission in groups of 32, 15.8 after this (the submission's statements in the `sqlite3`
            // module, on a copy of a database prepared as bench/http prepares one).
            // - Drafts kept in the order of their key (WITHOUT ROWID): deleting an invitation's drafts at submission
            //   changes one b-tree instead of the table and its key's index.
            // - The patient's invitations by patient alone: a change of state no longer moves the entry.
            // - Only an ending invitation's queued messages to the patient are looked up by invitation (its cancel);
            //   the submission's own forwards no longer go into that index, a random page each.
            // Foreign keys stay on: no table refers to the drafts, and an index breaks no reference.
            try db.execute(
                sql: """
                    CREATE TABLE answer_drafts_keyed (
                        invitation_id TEXT NOT NULL REFERENCES invitations(id),
                        instrument TEXT NOT NULL,
                        answers TEXT NOT NULL,
                        language TEXT NOT NULL,
                        updated_at INTEGER NOT NULL,
                        PRIMARY KEY (invitation_id, instrument)
                    ) WITHOUT ROWID;
                    INSERT INTO answer_drafts_keyed (invitation_id, instrument, answers, language, updated_at)
                        SELECT invitation_id, instrument, answers, language, updated_at FROM answer_drafts;
                    DROP TABLE answer_drafts;
                    ALTER TABLE answer_drafts_keyed RENAME TO answer_drafts;
                    DROP INDEX invitations_patient;
                    CREATE INDEX invitations_patient ON invitations(patient_id);
                    DROP INDEX outbox_invitation;
                    CREATE INDEX outbox_queued_messages ON outbox(invitation_id)
                        WHERE state = 'queued' AND kind IN ('invitation', 'reminder', 'code');
                    """)
        }
        migrator.registerMigration("2026-12-08-22-links-without-use-time", foreignKeyChecks: .immediate) { db in
            // Written at every submission, read nowhere: the invitation's state is what makes a link one-time (a
            // completed invitation's link leads only to its "done" page) and its history keeps when and by whom it
            // was completed. The write was two of a submission's 12 pages.
            try db.execute(sql: "ALTER TABLE invitation_links DROP COLUMN used_at")
        }
        return migrator
    }
}

/// A text column that may hold only the listed values (nullable columns may also be NULL).
struct ValueCheck {
    let table: String
    let column: String
    let values: [String]
    let nullable: Bool

    /// Fixed lists, as the migration ran: never derive them from today's enums (see the migration).
    static let all = [
        ValueCheck(
            table: "invitations", column: "state",
            values: [
                "scheduled", "invited", "reminded", "opened", "completed", "expired",
                "declined", "unreachable", "cancelled",
            ], nullable: false),
        ValueCheck(
            table: "invitations", column: "cancel_reason", values: ["reservation", "death", "newCourse", "duplicate", "clinician"],
            nullable: true),
        ValueCheck(
            table: "invitation_history", column: "to_state",
            values: [
                "scheduled", "invited", "reminded", "opened", "completed",
                "expired", "declined", "unreachable", "cancelled",
            ], nullable: false),
        ValueCheck(
            table: "invitation_history", column: "from_state",
            values: [
                "scheduled", "invited", "reminded", "opened", "completed",
                "expired", "declined", "unreachable", "cancelled",
            ], nullable: true),
        ValueCheck(table: "reminders", column: "state", values: ["pending", "sent", "cancelled"], nullable: false),
        ValueCheck(table: "courses", column: "status", values: ["active", "ended", "brokenOff"], nullable: false),
        ValueCheck(table: "courses", column: "type", values: ["D01", "D11", "D12"], nullable: false),
        ValueCheck(
            table: "pathway_events", column: "type",
            values: [
                "start", "firstAttendance", "clinicalDecision", "evaluation", "transfer",
                "end", "breakOff",
            ], nullable: false),
        ValueCheck(table: "outbox", column: "kind", values: ["invitation", "reminder", "code", "forward", "erase"], nullable: false),
        ValueCheck(table: "outbox", column: "state", values: ["queued", "sending", "sent", "failed", "cancelled"], nullable: false),
        ValueCheck(table: "deletion_requests", column: "state", values: ["received", "erasing-at-registry", "done"], nullable: false),
        ValueCheck(
            table: "users", column: "role", values: ["behandler", "kvarus-kontakt", "registerkontakt", "registry-admin"], nullable: false),
    ]

    var triggers: String {
        let list = values.map { "'\($0)'" }.joined(separator: ", ")
        let bad =
            nullable
            ? "NEW.\(column) IS NOT NULL AND NEW.\(column) NOT IN (\(list))" : "NEW.\(column) IS NULL OR NEW.\(column) NOT IN (\(list))"
        let refuse = "SELECT RAISE(ABORT, '\(table).\(column): not one of \(values.joined(separator: ", "))');"
        return """
            CREATE TRIGGER check_\(table)_\(column)_insert BEFORE INSERT ON \(table) WHEN \(bad) BEGIN \(refuse) END;
            CREATE TRIGGER check_\(table)_\(column)_update BEFORE UPDATE OF \(column) ON \(table) WHEN \(bad) BEGIN \(refuse) END;
            """
    }
}
