import SvarStore

/// The local registry store's tables on PostgreSQL, as named migrations only ever appended to. They mirror
/// `LocalRegistryStore.migrator` (the first carries the same name, so `svar migrate --status` reads alike on both
/// engines): timestamps BIGINT seconds, the sealed identity BYTEA, text that is ordered or compared `COLLATE "C"`
/// (bytewise, as SQLite compares — exports list rows in the same order on both), enumerations CHECKed.
enum PostgresRegistrySchema {
    /// The first number of the advisory locks: "sreg" in ASCII. The second is the schema's hash (migrations) or
    /// the pseudonym's (a submission and an erasure of one patient take turns).
    static let lockKey: Int32 = 0x7372_6567

    static let migrations: [(name: String, statements: [String])] = [("2026-12-01-01-registry", registry)]

    static let formats = "(" + ExportFormat.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ") + ")"

    static let registry = [
        // Results under the registry pseudonym only: no name, number or contact detail here.
        """
        CREATE TABLE results (
            response_id TEXT COLLATE "C" PRIMARY KEY,
            pseudonym TEXT COLLATE "C" NOT NULL,
            unit TEXT COLLATE "C" NOT NULL,
            milestone TEXT COLLATE "C" NOT NULL,
            instrument TEXT COLLATE "C" NOT NULL,
            instrument_version TEXT NOT NULL,
            language TEXT NOT NULL,
            respondent TEXT NOT NULL,
            submitted_at BIGINT NOT NULL,
            received_at BIGINT NOT NULL,
            answers TEXT NOT NULL,
            bundle TEXT NOT NULL
        )
        """,
        "CREATE INDEX results_pseudonym ON results(pseudonym)",
        "CREATE INDEX results_unit ON results(unit, milestone)",
        """
        CREATE TABLE result_scores (
            response_id TEXT COLLATE "C" NOT NULL REFERENCES results(response_id) ON DELETE CASCADE,
            key TEXT COLLATE "C" NOT NULL,
            number TEXT,
            flag BOOLEAN,
            items_answered BIGINT,
            items_in_scale BIGINT,
            algorithm TEXT NOT NULL,
            value_set TEXT,
            PRIMARY KEY (response_id, key)
        )
        """,
        // The registry's identity vault (§ 5-2): sealed, apart from the results, keyed by pseudonym.
        """
        CREATE TABLE identity_vault (
            pseudonym TEXT COLLATE "C" PRIMARY KEY,
            system TEXT NOT NULL,
            sealed BYTEA NOT NULL
        )
        """,
        // Exports for statistics and who was in them: data already used is kept out of a later deletion's reach.
        """
        CREATE TABLE exports (
            id TEXT COLLATE "C" PRIMARY KEY,
            at BIGINT NOT NULL,
            format TEXT COLLATE "C" NOT NULL CHECK (format IN \(formats)),
            rows BIGINT NOT NULL CHECK (rows >= 0)
        )
        """,
        """
        CREATE TABLE export_members (
            export_id TEXT COLLATE "C" NOT NULL REFERENCES exports(id),
            pseudonym TEXT COLLATE "C" NOT NULL,
            PRIMARY KEY (export_id, pseudonym)
        )
        """,
        // An erasure looks up the exports a pseudonym was in.
        "CREATE INDEX export_members_pseudonym ON export_members(pseudonym)",
        """
        CREATE TABLE erasures (
            pseudonym TEXT COLLATE "C" PRIMARY KEY,
            at BIGINT NOT NULL,
            erased TEXT NOT NULL,
            kept TEXT NOT NULL
        )
        """,
    ]
}
