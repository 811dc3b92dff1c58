import Foundation
import PostgresNIO
import SvarDomain
import SvarPostgres
import SvarSQLite
import SvarStore
import SvarTestSupport
import Testing

@testable import SvarPostgres

/// What holds between the engines and what only PostgreSQL has to show. Runs only with a test database.
@Suite(.enabled(if: PostgresTestDatabase.url != nil, "SVAR_TEST_POSTGRES_URL is not set"))
struct RegistryArchiveEngineTests {
    /// The same submissions give the same files, byte for byte (but for the export's own id), on both engines:
    /// the layout is shared, and both read rows in the same (bytewise) order.
    @Test func bothEnginesExportTheSameBytesForTheSameSubmissions() async throws {
        let sqlite = try await ArchiveEngine.sqlite.make()
        let postgres = try await ArchiveEngine.postgres.make()
        let submissions = try mixedSubmissions()
        // Submitted in different orders: the files must not depend on it.
        await submitAll(sqlite, submissions)
        await submitAll(postgres, submissions.reversed())
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let exports = [(ExportFormat.csv, String?.none), (.ndjson, nil), (.csv, "rand36"), (.ndjson, "eq5d-3l")]
        for (i, (format, instrument)) in exports.enumerated() {
            let name = "\(format.rawValue)-\(instrument ?? "all")"
            let at = archiveT0 + 600 + TimeInterval(i)
            let a = try await sqlite.export(
                format, instrument: instrument, catalogue: archiveCatalogue, into: folder.appendingPathComponent("sqlite-\(name)"),
                at: at)
            let b = try await postgres.export(
                format, instrument: instrument, catalogue: archiveCatalogue, into: folder.appendingPathComponent("postgres-\(name)"),
                at: at)
            #expect(a.files == b.files && a.rows == b.rows && a.pseudonyms == b.pseudonyms, "\(name)")
            let (sqliteFiles, postgresFiles) = (
                try exportedBytes(a, in: folder.appendingPathComponent("sqlite-\(name)")),
                try exportedBytes(b, in: folder.appendingPathComponent("postgres-\(name)"))
            )
            #expect(sqliteFiles.count == a.files.count)
            for file in a.files {
                #expect(sqliteFiles[file] == postgresFiles[file], "\(name)/\(file) differs between the engines")
            }
        }
        let listed = (try await sqlite.exports(), try await postgres.exports())
        #expect(listed.0.map(\.pseudonyms) == listed.1.map(\.pseudonyms) && listed.0.map(\.rows) == listed.1.map(\.rows))
        #expect(listed.0.map(\.at) == listed.1.map(\.at) && listed.0.count == exports.count)
    }

    @Test func theRegistryKeepsItsOwnSchemaAndMigrations() async throws {
        let base = try await PostgresTestDatabase.emptyStore()
        let schema = uniqueSchema("r_start")
        // Instances starting at once on a schema that does not exist yet: one creates it, the others wait and find it.
        let stores = try await withThrowingTaskGroup(of: PostgresRegistryStore.self) { group in
            for _ in 0..<4 { group.addTask { try await base.registryStore(schema: schema, sealingKey: vault.registryStoreKey) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let (a, b) = (stores[0], stores[3])
        #expect(try await a.appliedMigrations() == PostgresRegistryStore.knownMigrations)
        #expect(PostgresRegistryStore.knownMigrations == ["2026-12-01-01-registry"])
        await submitAll(a, [try archiveSubmission("r-1", pseudonym: "p-1", instrument: "eq5d-5l")])
        #expect(try await b.resultCount(pseudonym: "p-1") == 1, "two instances, one store")
        #expect(try await base.appliedMigrations() == PostgresStore.knownMigrations, "Svar's schema untouched")
        #expect(a.recipient == "local registry store (postgres schema \(schema))")
    }

    @Test func svarsOwnSchemaOrABadNameIsRefused() async throws {
        let shared = try #require(try await PostgresTestDatabase.shared?.value)
        let own = uniqueSchema("t_own")
        let store = try await shared.inSchema(own)
        await #expect(throws: StoreError.self) { try await store.registryStore(schema: own, sealingKey: vault.registryStoreKey) }
        // Reached another way (a second store naming Svar's schema), the migrations there give it away.
        await #expect(throws: StoreError.self) { try await shared.registryStore(schema: own, sealingKey: vault.registryStoreKey) }
        #expect(try await store.appliedMigrations() == PostgresStore.knownMigrations)
        await #expect(throws: StoreError.self) {
            try await shared.registryStore(schema: "Registry; DROP", sealingKey: vault.registryStoreKey)
        }
    }

    @Test func aURLOfItsOwnOpensTheStoreWithoutShowingThePassword() async throws {
        let url = try #require(PostgresTestDatabase.url)
        let schema = uniqueSchema("r_url")
        let store = try await PostgresRegistryStore.connect(url: url, poolSize: 2, schema: schema, sealingKey: vault.registryStoreKey)
        await submitAll(store, [try archiveSubmission("r-1", pseudonym: "p-1", instrument: "eq5d-5l")])
        #expect(try await store.identityNumber(pseudonym: "p-1") == "01914796756")
        if let password = URLComponents(string: url)?.password, !password.isEmpty { #expect(!store.recipient.contains(password)) }
        await store.shutdown()
        await #expect(throws: (any Error).self) {
            try await PostgresRegistryStore.connect(url: "mysql://x@localhost/db", sealingKey: vault.registryStoreKey)
        }
    }

    /// PostgreSQL keeps deleted rows as dead tuples until VACUUM: an erasure asks for it at once (docs/operations.md).
    @Test func anErasureVacuumsTheRegistryTables() async throws {
        let base = try await PostgresTestDatabase.emptyStore()
        let archive = try await base.registryStore(schema: uniqueSchema("r_vacuum"), sealingKey: vault.registryStoreKey)
        await submitAll(archive, [try archiveSubmission("r-1", pseudonym: "p-1", instrument: "eq5d-5l")])
        _ = try await archive.erase(pseudonym: "p-1", at: archiveT0)
        let vacuumed = try await archive.transaction { tx in
            try await tx.rows(
                """
                SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() AND vacuum_count > 0 ORDER BY relname
                """
            ).map { try $0.decode("relname", as: String.self) }
        }
        #expect(vacuumed == ["identity_vault", "result_scores", "results"])
    }

    @Test func aFormatOutsideTheListIsRefusedByTheDatabaseAndWhenRead() async throws {
        let base = try await PostgresTestDatabase.emptyStore()
        let schema = uniqueSchema("r_check")
        let archive = try await base.registryStore(schema: schema, sealingKey: vault.registryStoreKey)
        await #expect(throws: (any Error).self) {
            try await base.execute(rawSQL: "INSERT INTO \(schema).exports (id, at, format, rows) VALUES ('e', 0, 'xlsx', 1)")
        }
        await #expect(throws: (any Error).self) {
            try await base.execute(rawSQL: "INSERT INTO \(schema).exports (id, at, format, rows) VALUES ('e', 0, 'csv', -1)")
        }
        #expect(try await archive.exports().isEmpty)
        // A row that got past the check anyway is an error when read, never a quiet default.
        try await base.execute(rawSQL: "ALTER TABLE \(schema).exports DROP CONSTRAINT exports_format_check")
        try await base.execute(rawSQL: "INSERT INTO \(schema).exports (id, at, format, rows) VALUES ('e', 0, 'xlsx', 1)")
        await #expect(throws: StoreError.corruptValue(table: "exports", column: "format", value: "xlsx")) { try await archive.exports() }
    }
}
