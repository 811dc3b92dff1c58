import Crypto
import Foundation
import Logging
import PostgresNIO
import SvarDomain
import SvarRegistry
import SvarStore

/// The local registry store on PostgreSQL, for when Svar itself runs on PostgreSQL: the same tables and guarantees
/// as `LocalRegistryStore` (pseudonymised results, the registry's own sealed identity vault, exports recorded with
/// their members, erasures), in a schema of its own — on Svar's pool (`PostgresStore.registryStore`) or on a pool
/// of its own (`connect(url:)`, for a database apart from Svar's).
public final class PostgresRegistryStore: RegistryArchive {
    let client: PostgresClient
    /// The schema holding the registry's tables and its own `schema_migrations`.
    public let schema: String
    let sealingKey: SymmetricKey
    let logger: Logger
    /// The task running the pool, when this store made the client (`connect`); nil for one on a shared client.
    private let runner: Task<Void, Never>?
    public let identityUse = IdentityUse.separateVault
    /// Written to the disclosure log: the engine and schema, never the URL (it may hold a password).
    public var recipient: String { "local registry store (postgres schema \(schema))" }

    public static let defaultSchema = "registry"

    /// Every migration this version of Svar knows for the registry store, in order.
    public static var knownMigrations: [String] { PostgresRegistrySchema.migrations.map(\.name) }

    /// A registry store on a client someone else runs (`client.run()` must be running before the first query), in
    /// `schema` (a plain lower-case name); `sealingKey` is the vault's `registryStoreKey`. Call `migrate()` before use.
    public init(
        client: PostgresClient, schema: String = defaultSchema, sealingKey: SymmetricKey,
        logger: Logger = Logger(label: "svar.registry")
    ) throws {
        try PostgresStore.checkSchemaName(schema)
        self.client = client
        self.schema = schema
        self.sealingKey = sealingKey
        self.logger = logger
        runner = nil
    }

    private init(client: PostgresClient, runner: Task<Void, Never>, schema: String, sealingKey: SymmetricKey, logger: Logger) {
        self.client = client
        self.runner = runner
        self.schema = schema
        self.sealingKey = sealingKey
        self.logger = logger
    }

    /// Connects to `url` (as `PostgresStore.connect`) with a pool of its own, run by this store (end it with
    /// `shutdown()`), and creates and migrates `schema`.
    public static func connect(
        url: String, poolSize: Int = 4, schema: String = defaultSchema, sealingKey: SymmetricKey,
        logger: Logger = Logger(label: "svar.registry")
    ) async throws -> PostgresRegistryStore {
        guard case .postgres(var endpoint) = try DatabaseLocation.parse(url) else {
            throw LocationProblem("'\(url)' is not a postgres:// URL")
        }
        endpoint.poolSize = poolSize
        return try await connect(endpoint, schema: schema, sealingKey: sealingKey, logger: logger)
    }

    /// The same for an endpoint read from the configuration (`SVAR_REGISTRY_STORE`).
    public static func connect(
        _ endpoint: PostgresEndpoint, schema: String = defaultSchema, sealingKey: SymmetricKey, migrating: Bool = true,
        logger: Logger = Logger(label: "svar.registry")
    ) async throws -> PostgresRegistryStore {
        try PostgresStore.checkSchemaName(schema)
        let client = PostgresClient(configuration: try endpoint.clientConfiguration(), backgroundLogger: logger)
        let runner = Task { await client.run() }
        try? await Task.sleep(for: .milliseconds(20))  // as in `PostgresStore.connect`: let `run()` begin first
        let store = PostgresRegistryStore(client: client, runner: runner, schema: schema, sealingKey: sealingKey, logger: logger)
        do {
            if migrating { try await store.migrate() }
        } catch {
            await store.shutdown()
            throw error
        }
        return store
    }

    /// Stops the pool if this store started it (one on a shared client leaves it running).
    public func shutdown() async {
        guard let runner else { return }
        runner.cancel()
        await runner.value
    }

    /// Creates the schema and applies pending migrations in one transaction under an advisory lock, so instances
    /// starting at once take turns. A schema holding someone else's migrations (Svar's own) is refused untouched:
    /// the registry keeps its tables, including its identity vault, apart.
    public func migrate() async throws {
        // The lock comes before anything resolves the schema's name: a backend that looked it up while it did not
        // exist keeps that answer in its catalog cache, and after waiting would try to create it a second time.
        // So the search path is set only once the schema is there.
        try await client.transaction(schema: nil, logger: logger) { tx in
            try await tx.execute("SELECT pg_advisory_xact_lock(\(PostgresRegistrySchema.lockKey), hashtext(\(schema)))")
            // The name passed `checkSchemaName` (lower-case letters, digits, underscores): safe as an identifier.
            try await tx.execute(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"))
            try await tx.execute("SELECT set_config('search_path', \(schema), true)")
            try await tx.execute(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    name TEXT COLLATE "C" PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                )
                """)
            let applied = Set(try await tx.rows("SELECT name FROM schema_migrations").map { try $0.decode("name", as: String.self) })
            let foreign = applied.subtracting(Self.knownMigrations)
            guard foreign.isEmpty else {
                throw StoreError.conflict(
                    field: "schema",
                    reason: "'\(schema)' holds migrations the registry store does not know (\(foreign.sorted().joined(separator: ", "))): "
                        + "it needs a schema of its own")
            }
            for migration in PostgresRegistrySchema.migrations where !applied.contains(migration.name) {
                for statement in migration.statements {
                    try await tx.execute(PostgresQuery(unsafeSQL: statement))
                }
                try await tx.execute("INSERT INTO schema_migrations (name) VALUES (\(migration.name))")
            }
        }
    }

    /// The migrations applied so far, read without changing anything (none before the first).
    public func appliedMigrations() async throws -> [String] {
        try await transaction { tx in
            guard try await tx.value("SELECT to_regclass('schema_migrations') IS NOT NULL", as: Bool.self) == true else { return [] }
            return try await tx.rows("SELECT name FROM schema_migrations ORDER BY name").map { try $0.decode("name", as: String.self) }
        }
    }

    func transaction<Result: Sendable>(_ body: (Transaction) async throws -> Result) async throws -> Result {
        try await client.transaction(schema: schema, logger: logger, body)
    }

    /// Opens one sealed identity number — for registry staff with a need, and for tests.
    public func identityNumber(pseudonym: String) async throws -> String? {
        let sealed = try await transaction { tx in
            try await tx.value("SELECT sealed FROM identity_vault WHERE pseudonym = \(pseudonym)", as: Data.self)
        }
        return try sealed.map { try RegistryStoreRules.open($0, pseudonym: pseudonym, key: sealingKey) }
    }

    /// How many results the store holds for a pseudonym (or in all).
    public func resultCount(pseudonym: String? = nil) async throws -> Int {
        try await transaction { tx in
            try await tx.value(
                "SELECT COUNT(*) FROM results WHERE \(pseudonym)::text IS NULL OR pseudonym = \(pseudonym)", as: Int.self) ?? 0
        }
    }
}

extension PostgresStore {
    /// The registry store's schema on this pool for `svar migrate`, which needs no key (nothing is sealed or opened):
    /// `applying` migrates it first.
    public func registryMigrations(schema: String = PostgresRegistryStore.defaultSchema, applying: Bool) async throws -> [String] {
        let registry = try PostgresRegistryStore(client: client, schema: schema, sealingKey: SymmetricKey(size: .bits256), logger: logger)
        if applying { try await registry.migrate() }
        return try await registry.appliedMigrations()
    }

    /// The local registry store on this store's pool, in a schema of its own (created and migrated): one pool
    /// serves both, and the registry's tables stay apart from Svar's.
    public func registryStore(
        schema: String = PostgresRegistryStore.defaultSchema, sealingKey: SymmetricKey
    ) async throws -> PostgresRegistryStore {
        guard schema != self.schema else {
            throw StoreError.conflict(field: "schema", reason: "'\(schema)' is Svar's own schema: the registry store needs one of its own")
        }
        let registry = try PostgresRegistryStore(client: client, schema: schema, sealingKey: sealingKey, logger: logger)
        try await registry.migrate()
        return registry
    }
}
