import Crypto
import Foundation
import GRDB
import SvarDomain
import SvarRegistry
import SvarStore

/// The embedded registry (docs/architecture.md): a separate SQLite database holding pseudonymised results and, apart
/// from them, its own identity vault (numbers sealed with a key derived for this store alone). It is the
/// default target, so Svar works end to end with nothing else installed; export and statistics read it.
public final class LocalRegistryStore: RegistryArchive {
    let db: any DatabaseWriter
    let sealingKey: SymmetricKey
    public let path: String
    public let identityUse = IdentityUse.separateVault
    public var recipient: String { "local registry store (\(path))" }

    /// Opens (creating if needed) the registry database at `path`; `sealingKey` is the vault's
    /// `registryStoreKey`.
    public init(path: String, sealingKey: SymmetricKey) throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { try SQLiteStore.prepareForErasure($0) }
        db = try MigrationLock.whileHeld(beside: path) {
            let pool = try DatabasePool(path: path, configuration: configuration)
            // Acknowledged to the forwarder only once on disk, as the service's own database.
            try SQLiteStore.prepareForDurability(pool)
            try Self.migrator.migrate(pool)
            return pool
        }
        self.path = path
        self.sealingKey = sealingKey
    }

    /// `PRAGMA synchronous` as in force on the writer (2: FULL).
    public func synchronousMode() async throws -> Int { try await SQLiteStore.synchronousMode(of: db) }

    public func appliedMigrations() async throws -> [String] {
        try await db.read { try Self.migrator.appliedMigrations($0) }
    }

    /// Every migration this version of Svar knows for the registry store, in order.
    public static var knownMigrations: [String] { migrator.migrations }

    /// Applies the pending migrations to the registry store at `path` (creating it), without its key.
    public static func migrate(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        try MigrationLock.whileHeld(beside: path) {
            try migrator.migrate(try DatabasePool(path: path, configuration: configuration))
        }
    }

    /// The migrations applied to the registry store at `path`, read without changing it.
    public static func appliedMigrations(readingOnly path: String) throws -> [String] {
        try MigrationStatus.applied(path: path, migrator: migrator)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("2026-12-01-01-registry") { db in
            try db.execute(
                sql: """
                    -- Results under the registry pseudonym only: no name, number or contact detail here.
                    CREATE TABLE results (
                        response_id TEXT PRIMARY KEY,
                        pseudonym TEXT NOT NULL,
                        unit TEXT NOT NULL,
                        milestone TEXT NOT NULL,
                        instrument TEXT NOT NULL,
                        instrument_version TEXT NOT NULL,
                        language TEXT NOT NULL,
                        respondent TEXT NOT NULL,
                        submitted_at INTEGER NOT NULL,
                        received_at INTEGER NOT NULL,
                        answers TEXT NOT NULL,
                        bundle TEXT NOT NULL
                    );
                    CREATE INDEX results_pseudonym ON results(pseudonym);
                    CREATE INDEX results_unit ON results(unit, milestone);
                    CREATE TABLE result_scores (
                        response_id TEXT NOT NULL REFERENCES results(response_id) ON DELETE CASCADE,
                        key TEXT NOT NULL,
                        number TEXT,
                        flag INTEGER,
                        items_answered INTEGER,
                        items_in_scale INTEGER,
                        algorithm TEXT NOT NULL,
                        value_set TEXT,
                        PRIMARY KEY (response_id, key)
                    );
                    -- The registry's identity vault (§ 5-2): sealed, apart from the results, keyed by pseudonym.
                    CREATE TABLE identity_vault (
                        pseudonym TEXT PRIMARY KEY,
                        system TEXT NOT NULL,
                        sealed BLOB NOT NULL
                    );
                    -- Exports for statistics and who was in them: data already used is kept out of a later deletion's reach.
                    CREATE TABLE exports (
                        id TEXT PRIMARY KEY,
                        at INTEGER NOT NULL,
                        format TEXT NOT NULL,
                        rows INTEGER NOT NULL
                    );
                    CREATE TABLE export_members (
                        export_id TEXT NOT NULL REFERENCES exports(id),
                        pseudonym TEXT NOT NULL,
                        PRIMARY KEY (export_id, pseudonym)
                    );
                    CREATE TABLE erasures (
                        pseudonym TEXT PRIMARY KEY,
                        at INTEGER NOT NULL,
                        erased TEXT NOT NULL,
                        kept TEXT NOT NULL
                    );
                    """)
        }
        return migrator
    }

    public func submit(_ submission: RegistrySubmission) async -> ForwardOutcome {
        do {
            let identity = try submission.identity.map { try seal($0.value, pseudonym: submission.pseudonym) }
            return try await db.write { db in
                let r = submission.response
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM erasures WHERE pseudonym = ?", arguments: [submission.pseudonym]) == true {
                    return RegistryStoreRules.erasedPatient
                }
                try db.execute(
                    sql: """
                        INSERT OR IGNORE INTO results (response_id, pseudonym, unit, milestone, instrument, instrument_version,
                            language, respondent, submitted_at, received_at, answers, bundle)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        r.responseId, submission.pseudonym, r.unit, r.milestone, r.instrument, r.instrumentVersion, r.language,
                        r.respondent, Int64(r.submittedAt.timeIntervalSince1970), Int64(Date().timeIntervalSince1970),
                        r.answersJSON, submission.bundle,
                    ])
                guard db.changesCount == 1 else { return RegistryStoreRules.alreadyHeld(r.responseId) }
                for score in r.scores {
                    try db.execute(
                        sql: """
                            INSERT INTO result_scores (response_id, key, number, flag, items_answered, items_in_scale, algorithm, value_set)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            r.responseId, score.key, score.number, score.flag, score.itemsAnswered, score.itemsInScale,
                            score.algorithm, score.valueSet,
                        ])
                }
                if let identity, let system = submission.identity?.system {
                    try db.execute(
                        sql: "INSERT OR IGNORE INTO identity_vault (pseudonym, system, sealed) VALUES (?, ?, ?)",
                        arguments: [submission.pseudonym, system, Data(identity)])
                }
                return RegistryStoreRules.stored(r)
            }
        } catch {
            return RegistryStoreRules.unavailable(error)
        }
    }

    public func erase(pseudonym: String, at: Date) async throws -> ErasureReport {
        let report = try await eraseResults(pseudonym: pseudonym, at: at)
        try await db.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
        return report
    }

    private func eraseResults(pseudonym: String, at: Date) async throws -> ErasureReport {
        try await db.write { db in
            var report = ErasureReport()
            let results = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM results WHERE pseudonym = ?", arguments: [pseudonym]) ?? 0
            try db.execute(sql: "DELETE FROM results WHERE pseudonym = ?", arguments: [pseudonym])
            try db.execute(sql: "DELETE FROM identity_vault WHERE pseudonym = ?", arguments: [pseudonym])
            report.erased = RegistryStoreRules.erased(results: results, identities: db.changesCount)
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT e.id, e.at, e.format FROM exports e JOIN export_members m ON m.export_id = e.id WHERE m.pseudonym = ? ORDER
                        BY e.at, e.id
                    """, arguments: [pseudonym])
            {
                report.kept.append(RegistryStoreRules.keptExport(id: row["id"], format: row["format"], at: Date(seconds: row["at"])))
            }
            try db.execute(
                sql: "INSERT OR REPLACE INTO erasures (pseudonym, at, erased, kept) VALUES (?, ?, ?, ?)",
                arguments: [
                    pseudonym, Int64(at.timeIntervalSince1970), report.erased.joined(separator: "\n"), report.kept.joined(separator: "\n"),
                ])
            return report
        }
    }

    func seal(_ number: String, pseudonym: String) throws -> [UInt8] {
        try RegistryStoreRules.seal(number, pseudonym: pseudonym, key: sealingKey)
    }

    /// Opens one sealed identity number — for registry staff with a need, and for tests.
    public func identityNumber(pseudonym: String) async throws -> String? {
        guard
            let sealed = try await db.read({
                try Data.fetchOne($0, sql: "SELECT sealed FROM identity_vault WHERE pseudonym = ?", arguments: [pseudonym])
            })
        else {
            return nil
        }
        return try RegistryStoreRules.open(sealed, pseudonym: pseudonym, key: sealingKey)
    }

    /// How many results the store holds for a pseudonym (or in all).
    public func resultCount(pseudonym: String? = nil) async throws -> Int {
        try await db.read { db in
            if let pseudonym {
                return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM results WHERE pseudonym = ?", arguments: [pseudonym]) ?? 0
            }
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM results") ?? 0
        }
    }
}
