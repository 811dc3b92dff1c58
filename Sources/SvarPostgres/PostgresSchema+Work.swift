extension PostgresSchema {
    /// Outbox, links, second factor, nudges, deletion and signing keys.
    static let work = [
        """
        CREATE TABLE outbox (
            id TEXT COLLATE "C" PRIMARY KEY,
            kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('invitation', 'reminder', 'code', 'forward', 'erase')),
            patient_id TEXT COLLATE "C" NOT NULL,
            invitation_id TEXT COLLATE "C",
            response_id TEXT COLLATE "C",
            idempotency_key TEXT COLLATE "C" NOT NULL UNIQUE,
            payload TEXT NOT NULL,
            state TEXT COLLATE "C" NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'cancelled')),
            attempts BIGINT NOT NULL DEFAULT 0,
            next_attempt_at BIGINT NOT NULL,
            last_error TEXT,
            channel_index BIGINT NOT NULL DEFAULT 0,
            channel TEXT,
            message_id TEXT,
            failures TEXT NOT NULL DEFAULT '',
            sent_at BIGINT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )
        """,
        // A message being sent is `sending` (no longer cancellable); one whose sender died is due again when
        // its lease passes, so the delivery index covers both.
        "CREATE INDEX outbox_delivery_due ON outbox(next_attempt_at) WHERE state IN ('queued', 'sending')",
        "CREATE INDEX outbox_patient ON outbox(patient_id)",
        // Ending an invitation cancels its queued notifications: find them without scanning the outbox.
        "CREATE INDEX outbox_invitation ON outbox(invitation_id) WHERE state = 'queued'",
        "CREATE INDEX outbox_failed ON outbox(updated_at) WHERE state = 'failed'",
        "CREATE INDEX outbox_forward_due ON outbox(next_attempt_at) WHERE state = 'queued' AND kind IN ('forward', 'erase')",
        """
        CREATE TABLE invitation_links (
            nonce_hash BYTEA PRIMARY KEY,
            invitation_id TEXT COLLATE "C" NOT NULL REFERENCES invitations(id),
            expires_at BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            used_at BIGINT
        )
        """,
        "CREATE INDEX invitation_links_invitation ON invitation_links(invitation_id)",
        // Failed second-factor attempts per invitation, how often the link was locked and when it was voided,
        // and the hash of the current one-time code.
        """
        CREATE TABLE link_factor (
            invitation_id TEXT COLLATE "C" PRIMARY KEY REFERENCES invitations(id),
            failures BIGINT NOT NULL DEFAULT 0,
            locked_until BIGINT,
            code_hash BYTEA,
            code_expires_at BIGINT,
            locks BIGINT NOT NULL DEFAULT 0,
            voided_at BIGINT
        )
        """,
        // A nudge count per course and protocol milestone, restarted by the events the protocol names.
        """
        CREATE TABLE nudge_counts (
            course_id TEXT COLLATE "C" NOT NULL REFERENCES courses(id),
            milestone TEXT COLLATE "C" NOT NULL,
            since TEXT COLLATE "C" NOT NULL,
            nudged BOOLEAN NOT NULL DEFAULT false,
            PRIMARY KEY (course_id, milestone)
        )
        """,
        "CREATE INDEX nudge_count_candidates ON nudge_counts(milestone, since) WHERE NOT nudged",
        // The events each milestone's counts were built from: a change rebuilds them from the history.
        "CREATE TABLE nudge_rules (milestone TEXT COLLATE \"C\" PRIMARY KEY, counts_from TEXT NOT NULL)",
        """
        CREATE TABLE clinician_nudges (
            course_id TEXT COLLATE "C" NOT NULL REFERENCES courses(id),
            milestone TEXT COLLATE "C" NOT NULL,
            due_date TEXT COLLATE "C" NOT NULL,
            created_at BIGINT NOT NULL,
            resolved_at BIGINT,
            PRIMARY KEY (course_id, milestone, due_date)
        )
        """,
        "CREATE INDEX clinician_nudges_open ON clinician_nudges(course_id) WHERE resolved_at IS NULL",
        """
        CREATE TABLE deletion_requests (
            patient_id TEXT COLLATE "C" PRIMARY KEY REFERENCES patients(id),
            requested_at BIGINT NOT NULL,
            deadline BIGINT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('received', 'erasing-at-registry', 'done')),
            completed_at BIGINT,
            erased TEXT NOT NULL DEFAULT '',
            kept TEXT NOT NULL DEFAULT ''
        )
        """,
        // A retired signing key verifies no link.
        """
        CREATE TABLE signing_keys (
            id BIGINT PRIMARY KEY,
            created_at BIGINT NOT NULL,
            key_id TEXT NOT NULL,
            sealed BYTEA NOT NULL,
            retired_at BIGINT
        )
        """,
    ]

    /// Local accounts (bcrypt; TOTP secret sealed by the vault), their units, sessions (token hashes only), login
    /// attempts per keyed name hash, and the follow-up worklist's contacts.
    static let people = [
        """
        CREATE TABLE users (
            username TEXT COLLATE "C" PRIMARY KEY,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('behandler', 'kvarus-kontakt', 'registerkontakt', 'registry-admin')),
            totp_key_id TEXT,
            totp_sealed BYTEA,
            totp_last_step BIGINT,
            disabled_at BIGINT,
            failed_logins BIGINT NOT NULL DEFAULT 0,
            locked_until BIGINT,
            created_at BIGINT NOT NULL,
            language TEXT CHECK (language IN ('nb', 'nn', 'en'))
        )
        """,
        """
        CREATE TABLE user_units (
            username TEXT COLLATE "C" NOT NULL REFERENCES users(username) ON DELETE CASCADE,
            unit TEXT COLLATE "C" NOT NULL REFERENCES units(resh),
            PRIMARY KEY (username, unit)
        )
        """,
        """
        CREATE TABLE sessions (
            token_hash BYTEA PRIMARY KEY,
            username TEXT COLLATE "C" NOT NULL REFERENCES users(username) ON DELETE CASCADE,
            csrf TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            last_seen_at BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE follow_up_contacts (
            invitation_id TEXT COLLATE "C" PRIMARY KEY REFERENCES invitations(id) ON DELETE CASCADE,
            at BIGINT NOT NULL,
            by TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE login_attempts (
            name_key BYTEA PRIMARY KEY,
            failures BIGINT NOT NULL,
            locked_until BIGINT,
            updated_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX login_attempts_updated ON login_attempts(updated_at)",
    ]

    /// The audit log and the disclosure log (§ 4-7): append-only, enforced by triggers that refuse UPDATE,
    /// DELETE and TRUNCATE.
    static let logs = [
        """
        CREATE TABLE audit_log (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at BIGINT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            subject TEXT COLLATE "C" NOT NULL,
            detail TEXT NOT NULL
        )
        """,
        "CREATE INDEX audit_log_subject ON audit_log(subject, id)",
        """
        CREATE TABLE disclosure_log (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at BIGINT NOT NULL,
            recipient TEXT NOT NULL,
            subject TEXT COLLATE "C" NOT NULL,
            identified_by TEXT NOT NULL,
            data_set TEXT NOT NULL,
            response_id TEXT NOT NULL,
            basis TEXT NOT NULL,
            receipt TEXT NOT NULL
        )
        """,
        "CREATE INDEX disclosure_log_subject ON disclosure_log(subject, id)",
        """
        CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
        END
        $$
        """,
        """
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION refuse_change('the audit log is append-only')
        """,
        """
        CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('the audit log is append-only')
        """,
        """
        CREATE TRIGGER disclosure_log_append_only BEFORE UPDATE OR DELETE ON disclosure_log
            FOR EACH ROW EXECUTE FUNCTION refuse_change('the disclosure log is append-only')
        """,
        """
        CREATE TRIGGER disclosure_log_no_truncate BEFORE TRUNCATE ON disclosure_log
            FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('the disclosure log is append-only')
        """,
    ]
}
