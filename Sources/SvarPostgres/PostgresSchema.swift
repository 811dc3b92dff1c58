/// The tables of the first PostgreSQL migration, one statement per string (the extended protocol runs one at a
/// time). They mirror SQLiteMigrations as of its latest migration: timestamps are BIGINT seconds, dates ISO
/// text, blobs BYTEA; string states and kinds carry CHECK constraints listing their values.
enum PostgresSchema {
    static let core = [
        """
        CREATE TABLE units (
            resh TEXT COLLATE "C" PRIMARY KEY,
            name TEXT NOT NULL,
            parent TEXT COLLATE "C" REFERENCES units(resh),
            created_at BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE patients (
            id TEXT COLLATE "C" PRIMARY KEY,
            language TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            reserved_at BIGINT,
            deletion_requested_at BIGINT
        )
        """,
        // Direct identifiers live only here, sealed (§ 5-2); lookup_hash is a keyed HMAC, not the number.
        """
        CREATE TABLE identity_vault (
            patient_id TEXT COLLATE "C" PRIMARY KEY REFERENCES patients(id) ON DELETE CASCADE,
            lookup_hash BYTEA NOT NULL UNIQUE,
            key_id TEXT NOT NULL,
            sealed BYTEA NOT NULL
        )
        """,
        "CREATE TABLE reservation_tombstones (lookup_hash BYTEA PRIMARY KEY, reserved_at BIGINT NOT NULL)",
        // The identity as each unit registered it: a unit sees its own record, never what another unit typed.
        """
        CREATE TABLE unit_identities (
            patient_id TEXT COLLATE "C" NOT NULL REFERENCES patients(id),
            unit TEXT COLLATE "C" NOT NULL REFERENCES units(resh),
            key_id TEXT NOT NULL,
            sealed BYTEA NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (patient_id, unit)
        )
        """,
        """
        CREATE TABLE courses (
            id TEXT COLLATE "C" PRIMARY KEY,
            patient_id TEXT COLLATE "C" NOT NULL REFERENCES patients(id),
            unit TEXT COLLATE "C" NOT NULL REFERENCES units(resh),
            type TEXT COLLATE "C" NOT NULL CHECK (type IN ('D01', 'D11', 'D12')),
            status TEXT COLLATE "C" NOT NULL CHECK (status IN ('active', 'ended', 'brokenOff')),
            created_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX courses_patient ON courses(patient_id)",
        "CREATE INDEX courses_unit ON courses(unit, status)",
        """
        CREATE TABLE pathway_events (
            id TEXT COLLATE "C" PRIMARY KEY,
            course_id TEXT COLLATE "C" NOT NULL REFERENCES courses(id),
            type TEXT COLLATE "C" NOT NULL CHECK (type IN ('start', 'firstAttendance', 'clinicalDecision', 'evaluation', 'transfer',
                                                          'end', 'breakOff')),
            date TEXT COLLATE "C" NOT NULL,
            unit TEXT COLLATE "C" NOT NULL REFERENCES units(resh),
            npr_code TEXT,
            recorded_by TEXT NOT NULL,
            recorded_at BIGINT NOT NULL,
            seq BIGINT NOT NULL
        )
        """,
        "CREATE INDEX pathway_events_course ON pathway_events(course_id, seq)",
        """
        CREATE TABLE invitations (
            id TEXT COLLATE "C" PRIMARY KEY,
            course_id TEXT COLLATE "C" NOT NULL REFERENCES courses(id),
            patient_id TEXT COLLATE "C" NOT NULL REFERENCES patients(id),
            milestone TEXT COLLATE "C" NOT NULL,
            instruments TEXT NOT NULL,
            trigger_event_id TEXT COLLATE "C" NOT NULL REFERENCES pathway_events(id),
            due_date TEXT COLLATE "C" NOT NULL,
            state TEXT COLLATE "C" NOT NULL CHECK (state IN \(states)),
            reminders_sent BIGINT NOT NULL DEFAULT 0,
            cancel_reason TEXT CHECK (cancel_reason IN ('reservation', 'death', 'newCourse', 'duplicate', 'clinician')),
            opens_at BIGINT NOT NULL,
            closes_at BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            UNIQUE (course_id, milestone, trigger_event_id)
        )
        """,
        "CREATE INDEX invitations_course ON invitations(course_id)",
        "CREATE INDEX invitations_patient ON invitations(patient_id, state)",
        "CREATE INDEX invitations_to_open ON invitations(opens_at) WHERE state = 'scheduled'",
        """
        CREATE INDEX invitations_to_close ON invitations(closes_at)
            WHERE state IN ('scheduled', 'invited', 'reminded', 'opened', 'unreachable')
        """,
        """
        CREATE TABLE invitation_history (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            invitation_id TEXT COLLATE "C" NOT NULL REFERENCES invitations(id),
            at BIGINT NOT NULL,
            from_state TEXT CHECK (from_state IN \(states)),
            to_state TEXT NOT NULL CHECK (to_state IN \(states)),
            cause TEXT NOT NULL,
            actor TEXT NOT NULL
        )
        """,
        "CREATE INDEX invitation_history_invitation ON invitation_history(invitation_id, id)",
        """
        CREATE TABLE reminders (
            invitation_id TEXT COLLATE "C" NOT NULL REFERENCES invitations(id),
            seq BIGINT NOT NULL,
            due_at BIGINT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'cancelled')),
            PRIMARY KEY (invitation_id, seq)
        )
        """,
        "CREATE INDEX reminders_due ON reminders(due_at) WHERE state = 'pending'",
        // Answers saved step by step before submission (save and resume); deleted on submission.
        """
        CREATE TABLE answer_drafts (
            invitation_id TEXT COLLATE "C" NOT NULL REFERENCES invitations(id),
            instrument TEXT COLLATE "C" NOT NULL,
            answers TEXT NOT NULL,
            language TEXT NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (invitation_id, instrument)
        )
        """,
        """
        CREATE TABLE responses (
            id TEXT COLLATE "C" PRIMARY KEY,
            invitation_id TEXT COLLATE "C" NOT NULL REFERENCES invitations(id),
            instrument TEXT COLLATE "C" NOT NULL,
            instrument_version TEXT NOT NULL,
            answers TEXT NOT NULL,
            respondent TEXT NOT NULL,
            language TEXT NOT NULL,
            submitted_at BIGINT NOT NULL,
            UNIQUE (invitation_id, instrument)
        )
        """,
        // `seq` keeps the scores in the order they were given (SQLite reads them by rowid).
        """
        CREATE TABLE scores (
            seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
            response_id TEXT COLLATE "C" NOT NULL REFERENCES responses(id),
            key TEXT COLLATE "C" NOT NULL,
            number TEXT,
            flag BOOLEAN,
            items_answered BIGINT,
            items_in_scale BIGINT,
            algorithm TEXT NOT NULL,
            value_set TEXT COLLATE "C",
            PRIMARY KEY (response_id, key)
        )
        """,
    ]

    /// The invitation states (SvarDomain's InvitationState), for CHECK constraints.
    static let states = "('scheduled', 'invited', 'reminded', 'opened', 'completed', 'expired', 'declined', 'unreachable', 'cancelled')"
}
