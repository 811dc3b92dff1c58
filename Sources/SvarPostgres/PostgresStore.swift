import Foundation
import Logging
import PostgresNIO
import SvarDomain
import SvarStore

/// The store for scale-out: PostgreSQL 15+ through PostgresNIO's pooled client, so several `svar serve`
/// instances can share one database. Claims of work lock their rows with `FOR UPDATE SKIP LOCKED`, so the
/// instances split the work instead of doing it twice.
public final class PostgresStore: Store {
    let client: PostgresClient
    /// The schema every transaction works in (nil: the role's default `search_path`).
    let schema: String?
    let logger: Logger
    /// The task running the pool, when this store made the client (`connect`); nil for a store that shares one.
    private let runner: Task<Void, Never>?
    /// How many of the pool's connections a large catch-up (the scheduler's first nudge pass) may write through
    /// side by side. Two: on a 2-core server the nudge insert split in two took 2.9-4.7 s against 4.4-6.3 s whole,
    /// and split in four 4.0-5.6 s. Never more than the pool has, or the catch-up would wait for itself.
    let catchUpWriters: Int

    /// A store over a client that someone else runs (`client.run()` must be running before the first query).
    /// Call `migrate()` before use. `poolSize` is the client's `maximumConnections`.
    public convenience init(
        client: PostgresClient, poolSize: Int, schema: String? = nil, logger: Logger = Logger(label: "svar.postgres")
    ) throws {
        if let schema { try Self.checkSchemaName(schema) }
        self.init(client: client, runner: nil, catchUpWriters: Self.catchUpWriters(poolSize: poolSize), schema: schema, logger: logger)
    }

    private init(client: PostgresClient, runner: Task<Void, Never>?, catchUpWriters: Int, schema: String?, logger: Logger) {
        self.client = client
        self.runner = runner
        self.catchUpWriters = catchUpWriters
        self.schema = schema
        self.logger = logger
    }

    static func catchUpWriters(poolSize: Int) -> Int { max(1, min(2, poolSize)) }

    /// Connects to `url` (`postgres://user:password@host:port/database?sslmode=…`) with at most `poolSize`
    /// connections; see `connect(_:schema:logger:)`.
    public static func connect(
        url: String, poolSize: Int = 10, schema: String? = nil,
        logger: Logger = Logger(label: "svar.postgres")
    ) async throws -> PostgresStore {
        guard case .postgres(let endpoint) = try DatabaseLocation.parse(url, poolSize: poolSize) else {
            throw LocationProblem("'\(url)' is not a postgres:// URL")
        }
        return try await connect(endpoint, schema: schema, logger: logger)
    }

    /// Runs a pool to `endpoint` in a task this store owns (end it with `shutdown()`) and applies pending
    /// migrations. Call `endpoint.waitUntilReachable` first: the pool itself waits silently for a database
    /// that is not there.
    public static func connect(
        _ endpoint: PostgresEndpoint, schema: String? = nil, migrating: Bool = true, logger: Logger = Logger(label: "svar.postgres")
    ) async throws -> PostgresStore {
        if let schema { try checkSchemaName(schema) }
        let client = PostgresClient(configuration: try endpoint.clientConfiguration(), backgroundLogger: logger)
        let runner = Task { await client.run() }
        // `run()` must have begun before the first lease, or PostgresNIO warns (the query would still wait for it);
        // there is no signal for that, so give the new task a moment once per process.
        try? await Task.sleep(for: .milliseconds(20))
        let store = PostgresStore(
            client: client, runner: runner, catchUpWriters: catchUpWriters(poolSize: endpoint.poolSize), schema: schema, logger: logger)
        do {
            if migrating { try await store.migrate() }
        } catch {
            await store.shutdown()
            throw error
        }
        return store
    }

    /// A store on the same pool working in its own `schema` (created if missing, then migrated): tests give each
    /// case an empty database this way without a pool per case.
    public func inSchema(_ schema: String) async throws -> PostgresStore {
        try Self.checkSchemaName(schema)
        let store = PostgresStore(client: client, runner: nil, catchUpWriters: catchUpWriters, schema: schema, logger: logger)
        try await store.migrate()
        return store
    }

    /// Stops the pool if this store started it (a store from `init(client:)` or `inSchema` leaves it running).
    public func shutdown() async {
        guard let runner else { return }
        runner.cancel()
        await runner.value
    }

    /// Schema names become SQL identifiers (they cannot be bound), so only plain lower-case names pass.
    static func checkSchemaName(_ name: String) throws {
        let allowed = name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
        guard allowed, !name.isEmpty, name.utf8.count <= 63, let first = name.utf8.first, !(first >= 48 && first <= 57) else {
            throw StoreError.conflict(field: "schema", reason: "'\(name)' is not a plain lower-case SQL name")
        }
    }

    /// Runs `body` in one transaction on a pooled connection, in this store's schema (see `PostgresClient.transaction`).
    func transaction<Result: Sendable>(_ body: (Transaction) async throws -> Result) async throws -> Result {
        try await client.transaction(schema: schema, logger: logger, body)
    }

    static func domainError(_ error: any Error) -> any Error {
        guard let psql = error as? PSQLError, psql.serverInfo?[.sqlState] == "23505" else { return error }
        let constraint = psql.serverInfo?[.constraintName] ?? "key"
        return StoreError.conflict(field: constraint, reason: "exists already")
    }

    /// The migrations applied so far, read without changing anything (none on an empty database).
    public func appliedMigrations() async throws -> [String] {
        try await transaction { tx in
            guard try await tx.value("SELECT to_regclass('schema_migrations') IS NOT NULL", as: Bool.self) == true else { return [] }
            return try await tx.rows("SELECT name FROM schema_migrations ORDER BY name").map { try $0.decode("name", as: String.self) }
        }
    }

    /// Every migration this version of Svar knows for PostgreSQL, in order.
    public static var knownMigrations: [String] { PostgresMigrations.all.map(\.name) }
}

extension Date {
    /// Timestamps are whole seconds since 1970 (BIGINT), as on SQLite.
    var seconds: Int64 { Int64(timeIntervalSince1970.rounded(.down)) }
    init(seconds: Int64) { self.init(timeIntervalSince1970: TimeInterval(seconds)) }
}
