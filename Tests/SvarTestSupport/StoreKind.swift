import Foundation
import SvarPostgres
import SvarSQLite
import SvarStore

/// The storage engines a test can run on. `postgres` joins the lists when `SVAR_TEST_POSTGRES_URL` names a
/// database (scripts/postgres-test-cluster starts a throwaway one).
public enum StoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqliteMemory, sqliteFile, postgres
    public var description: String { rawValue }

    /// Every variant: the storage contract's own suite, where SQLite on a file differs from SQLite in memory.
    public static var allCases: [StoreKind] {
        PostgresTestDatabase.url == nil ? [.sqliteMemory, .sqliteFile] : [.sqliteMemory, .sqliteFile, .postgres]
    }

    /// One variant per engine: the suites above the store (delivery, forwarding, the web layer).
    public static var engines: [StoreKind] {
        PostgresTestDatabase.url == nil ? [.sqliteMemory] : [.sqliteMemory, .postgres]
    }

    /// An empty store of this kind (a PostgreSQL store in a schema of its own).
    public func make() async throws -> any TestStore {
        switch self {
        case .sqliteMemory: return try SQLiteStore()
        case .sqliteFile:
            let path = ScratchFolder.file("contract").path
            return try SQLiteStore(path: path)
        case .postgres: return try await PostgresTestDatabase.emptyStore()
        }
    }
}

/// One pool for the whole test process; each test gets its own schema in it (an empty database without the
/// cost of CREATE DATABASE). The schemas are left behind: the cluster is thrown away after the run.
public enum PostgresTestDatabase {
    public static let url = ProcessInfo.processInfo.environment["SVAR_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    public static let shared: Task<PostgresStore, any Error>? = url.map { url in
        Task { try await PostgresStore.connect(url: url, poolSize: 8) }
    }

    public static func emptyStore() async throws -> PostgresStore {
        guard let shared else { throw StoreError.notFound(what: "test database", id: "SVAR_TEST_POSTGRES_URL") }
        return try await shared.value.inSchema("t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))
    }
}

/// A store with the few operations tests use behind the `Store` protocol's back; both engines have them.
/// Raw SQL given to `execute(rawSQL:)` must be plain SQL that both engines read alike.
public protocol TestStore: Store {
    /// Fixed SQL in one transaction (tests and maintenance only).
    func execute(rawSQL sql: String) async throws
    /// The payload of an outbox item: what the notifier will send.
    func outboxPayload(id: String) async throws -> String?
    /// Every outbox item of a kind.
    func outboxItems(kind: OutboxKind) async throws -> [OutboxItem]
}

extension SQLiteStore: TestStore {}
extension PostgresStore: TestStore {}
