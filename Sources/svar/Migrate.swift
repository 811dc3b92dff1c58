import ArgumentParser
import Foundation
import SvarSQLite
import SvarServices

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
        do {
            configuration = try SvarConfiguration.fromEnvironment(environment)
        } catch {
            throw fail("cannot start: \(error)")
        }
        let databasePath = configuration.databasePath
        let registryPath = ForwardingConfiguration.localStorePath(environment, databasePath: databasePath)
        if !status {
            do {
                _ = try SQLiteStore(path: databasePath)
                if environment["SVAR_REGISTRY_URL"]?.isEmpty ?? true {
                    try LocalRegistryStore.migrate(path: registryPath)
                }
            } catch {
                throw fail("cannot migrate: \(error)")
            }
        }
        do {
            try show(
                "database sqlite:\(databasePath)", applied: try SQLiteStore.appliedMigrations(readingOnly: databasePath),
                known: SQLiteStore.knownMigrations)
            if environment["SVAR_REGISTRY_URL"]?.isEmpty ?? true {
                try show(
                    "registry store sqlite:\(registryPath)", applied: try LocalRegistryStore.appliedMigrations(readingOnly: registryPath),
                    known: LocalRegistryStore.knownMigrations)
            }
        } catch {
            throw fail("cannot read the migrations: \(error)")
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
