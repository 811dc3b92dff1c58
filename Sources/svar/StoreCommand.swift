import ArgumentParser
import Foundation
import SvarPostgres
import SvarSQLite
import SvarServices
import SvarStore

/// Moving an installation between engines: every table copied into a new PostgreSQL database, with counts and
/// checksums read back from both sides, so an operator can see that nothing was lost on the way.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Move an installation's data between storage engines.",
        subcommands: [Copy.self]
    )

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a SQLite installation (and its local registry store) into an empty PostgreSQL database.",
            discussion: """
                Stop every svar process of the installation first. The source is brought up to this version's schema, \
                the target is migrated and must be empty; everything is copied in one transaction per database, then \
                each table's row count and checksum is read back from the target and compared with the source's. \
                Any difference rolls the copy back. The password may come from SVAR_DATABASE_PASSWORD_FILE.
                """)

        @Option(help: ArgumentHelp("The installation to copy: sqlite:PATH.", valueName: "sqlite:PATH"))
        var from: String

        @Option(help: ArgumentHelp("The new, empty database: postgres://USER@HOST[:PORT]/DB[?sslmode=…].", valueName: "postgres-url"))
        var to: String

        @Option(
            help: ArgumentHelp(
                "The local registry store to copy (default: registry.sqlite beside the source, if it exists); it goes to the "
                    + "target's 'registry' schema.", valueName: "sqlite:PATH"))
        var registryFrom: String?

        @Option(help: "How long to wait for PostgreSQL to answer, in seconds.")
        var connectTimeout = 30

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            let (sourcePath, endpoint) = try locations(environment)
            do {
                _ = try SQLiteStore(path: sourcePath)  // brings the source to this version's schema
            } catch {
                throw fail("--from: cannot open sqlite:\(sourcePath) (\(error))")
            }
            let logger = commandLogger(SvarConfiguration())
            let target: PostgresStore
            do {
                try await endpoint.waitUntilReachable(seconds: connectTimeout, logger: logger)
                target = try await PostgresStore.connect(endpoint, logger: logger)
            } catch {
                throw fail("--to: \(endpoint.explain(error))")
            }
            let registry = try registrySource(beside: sourcePath)
            do {
                print("svar store copy: sqlite:\(sourcePath) → \(endpoint)")
                let reports = try await target.copyIn(
                    from: try SQLiteTableSource(path: sourcePath), registry: try registry.map { try SQLiteTableSource(path: $0) })
                show(reports.svar)
                if let registry {
                    print("local registry store: sqlite:\(registry) → schema \(PostgresRegistryStore.defaultSchema)")
                    show(reports.registry)
                }
                await target.shutdown()
            } catch {
                await target.shutdown()
                throw fail("copy failed, nothing was kept in the target: \(endpoint.explain(error))")
            }
        }

        /// The local registry store to copy: `--registry-from`, or `registry.sqlite` beside the source when it exists;
        /// brought to this version's schema first.
        private func registrySource(beside sourcePath: String) throws -> String? {
            let path: String
            if let registryFrom {
                guard case .sqlite(let given) = try? DatabaseLocation.parse(registryFrom) else {
                    throw fail("--registry-from: '\(registryFrom)' is not sqlite:PATH")
                }
                guard FileManager.default.fileExists(atPath: given) else { throw fail("--registry-from: sqlite:\(given) does not exist") }
                path = given
            } else {
                let beside = URL(fileURLWithPath: sourcePath).deletingLastPathComponent().appendingPathComponent("registry.sqlite").path
                guard FileManager.default.fileExists(atPath: beside) else { return nil }
                path = beside
            }
            do {
                try LocalRegistryStore.migrate(path: path)
            } catch {
                throw fail("--registry-from: cannot open sqlite:\(path) (\(error))")
            }
            return path
        }

        private func locations(_ environment: [String: String]) throws -> (String, PostgresEndpoint) {
            guard case .sqlite(let path) = try? DatabaseLocation.parse(from) else {
                throw fail("--from: '\(PostgresEndpoint.redacting(from))' is not sqlite:PATH")
            }
            var password: String?
            if let file = environment["SVAR_DATABASE_PASSWORD_FILE"], !file.isEmpty {
                do {
                    password = try SvarConfiguration.password(file: file)
                } catch {
                    throw fail("SVAR_DATABASE_PASSWORD_FILE: \(error)")
                }
            }
            do {
                guard case .postgres(let endpoint) = try DatabaseLocation.parse(to, password: password, poolSize: 2) else {
                    throw LocationProblem("'\(to)' is not a postgres:// URL")
                }
                return (path, endpoint)
            } catch {
                throw fail("--to: \(error)")
            }
        }

        private func show(_ reports: [TableCopyReport]) {
            let width = max(5, reports.map(\.table.count).max() ?? 5)
            print("table".padding(toLength: width, withPad: " ", startingAt: 0) + "  rows(source)  rows(target)  checksum(source=target)")
            for report in reports {
                print(
                    report.table.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                        + String(report.source.rows).leftPad(12) + "  " + String(report.target.rows).leftPad(12) + "  "
                        + "\(report.source)" + (report.matches ? "" : " ≠ \(report.target)"))
            }
            let rows = reports.reduce(0) { $0 + $1.source.rows }
            print("copied \(reports.count) tables, \(rows) rows; every count and checksum matches")
        }
    }
}

extension String {
    fileprivate func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
