import ArgumentParser
import Crypto
import Foundation
import SvarPostgres
import SvarSQLite
import SvarServices
import SvarStore

/// Schema migrations: every command applies the pending ones when it opens a database; this shows where an
/// installation stands, before or after an upgrade.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending schema migrations, or list them with --status.",
        discussion: """
            Migrations are named and append-only; every svar command applies the pending ones when it opens a database \
            (one process at a time: others wait). --status changes nothing: it lists each migration of Svar's database \
            and of the local registry store as applied or pending.
            """
    )

    @Flag(help: "List applied and pending migrations without applying any.")
    var status = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let configuration: SvarConfiguration
        let registry: RegistryArchiveLocation?
        do {
            configuration = try SvarConfiguration.fromEnvironment(environment)
            let usesLocalStore = environment["SVAR_REGISTRY_URL"]?.isEmpty ?? true
            registry = usesLocalStore ? try ForwardingConfiguration.localStoreLocation(environment, database: configuration.database) : nil
        } catch {
            throw fail("cannot start: \(error)")
        }
        switch configuration.database {
        case .sqlite(let path): try sqlite(path, registry: registry)
        case .postgres(let endpoint): try await postgres(endpoint, configuration: configuration, registry: registry)
        }
    }

    private func sqlite(_ path: String, registry: RegistryArchiveLocation?) throws {
        if !status {
            do {
                _ = try SQLiteStore(path: path)
                if case .sqlite(let registryPath) = registry { try LocalRegistryStore.migrate(path: registryPath) }
            } catch {
                throw fail("cannot migrate: \(error)")
            }
        }
        do {
            try show(
                "database sqlite:\(path)", applied: try SQLiteStore.appliedMigrations(readingOnly: path), known: SQLiteStore.knownMigrations
            )
            if case .sqlite(let registryPath) = registry {
                try show(
                    "registry store sqlite:\(registryPath)", applied: try LocalRegistryStore.appliedMigrations(readingOnly: registryPath),
                    known: LocalRegistryStore.knownMigrations)
            }
        } catch {
            throw fail("cannot read the migrations: \(error)")
        }
    }

    private func postgres(_ endpoint: PostgresEndpoint, configuration: SvarConfiguration, registry: RegistryArchiveLocation?) async throws {
        let store: PostgresStore
        do {
            try await endpoint.waitUntilReachable(seconds: configuration.databaseConnectTimeout, logger: commandLogger(configuration))
            store = try await PostgresStore.connect(endpoint, migrating: !status, logger: commandLogger(configuration))
        } catch {
            throw fail("cannot \(status ? "read" : "apply") the migrations: \(endpoint.explain(error))")
        }
        do {
            try show("database \(endpoint)", applied: try await store.appliedMigrations(), known: PostgresStore.knownMigrations)
            switch registry {
            case .schemaBesideSvar(let schema):
                try show(
                    "registry store (schema \(schema))", applied: try await store.registryMigrations(schema: schema, applying: !status),
                    known: PostgresRegistryStore.knownMigrations)
            case .postgres(let other, let schema):
                try await other.waitUntilReachable(seconds: configuration.databaseConnectTimeout, logger: commandLogger(configuration))
                let registry = try await PostgresRegistryStore.connect(
                    other, schema: schema, sealingKey: SymmetricKey(size: .bits256), migrating: !status,
                    logger: commandLogger(configuration))
                let applied = try await registry.appliedMigrations()
                await registry.shutdown()
                try show("registry store (schema \(schema) of \(other))", applied: applied, known: PostgresRegistryStore.knownMigrations)
            case .sqlite(let path):
                if !status { try LocalRegistryStore.migrate(path: path) }
                try show(
                    "registry store sqlite:\(path)", applied: try LocalRegistryStore.appliedMigrations(readingOnly: path),
                    known: LocalRegistryStore.knownMigrations)
            case nil: break
            }
            await store.shutdown()
        } catch {
            await store.shutdown()
            throw fail("cannot read the migrations: \(endpoint.explain(error))")
        }
    }

    private func show(_ what: String, applied: [String], known: [String]) throws {
        let done = Set(applied)
        let pending = known.filter { !done.contains($0) }
        print("\(what): \(applied.count) applied, \(pending.count) pending")
        for name in known { print("  \(done.contains(name) ? "applied" : "pending")  \(name)") }
        for name in applied where !known.contains(name) {
            print("  unknown  \(name) (applied by a newer Svar?)")
        }
    }
}
