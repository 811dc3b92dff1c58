import Foundation
import Logging
import SvarAssets
import SvarDomain
import SvarInstruments
import SvarPostgres
import SvarSQLite
import SvarServices
import SvarStore

/// Everything a command needs, built from the environment the same way for every command, on whichever
/// engine `SVAR_DATABASE_URL` names.
struct Runtime {
    let configuration: SvarConfiguration
    let directories: AssetDirectories
    let catalogue: InstrumentCatalogue
    let scheduleProtocol: ScheduleProtocol
    let store: any Store
    /// The PostgreSQL store when that is the engine: its pool also serves the registry store's schema.
    let postgres: PostgresStore?
    let vault: IdentityVault

    /// Loads everything; `needsVault: false` (for `svar tick`, which never reads identities) lets the vault key
    /// be absent.
    static func load(_ environment: [String: String] = ProcessInfo.processInfo.environment, needsVault: Bool = true) async throws
        -> Runtime
    {
        do {
            let configuration = try SvarConfiguration.fromEnvironment(environment)
            let directories = try AssetDirectories.resolve(environment: environment)
            let catalogue = try InstrumentLoader.catalogue(directories)
            let scheduleProtocol = try ProtocolLoader.load(id: configuration.protocolId, directories: directories, catalogue: catalogue)
            let vault = try loadVault(environment, needsVault: needsVault)
            let (store, postgres) = try await open(configuration)
            return Runtime(
                configuration: configuration, directories: directories, catalogue: catalogue,
                scheduleProtocol: scheduleProtocol, store: store, postgres: postgres, vault: vault)
        } catch {
            throw fail("cannot start: \(error)")
        }
    }

    /// Opens (and migrates) Svar's database. PostgreSQL is waited for at start-up, for at most
    /// `SVAR_DATABASE_CONNECT_TIMEOUT` seconds, so instances may start before their database.
    static func open(_ configuration: SvarConfiguration) async throws -> (any Store, PostgresStore?) {
        switch configuration.database {
        case .sqlite(let path):
            do {
                return (try SQLiteStore(path: path), nil)
            } catch {
                throw AssetError("SVAR_DATABASE_URL: cannot open sqlite:\(path) (\(error))")
            }
        case .postgres(let endpoint):
            let logger = commandLogger(configuration)
            do {
                try await endpoint.waitUntilReachable(seconds: configuration.databaseConnectTimeout, logger: logger)
                let store = try await PostgresStore.connect(endpoint, logger: logger)
                return (store, store)
            } catch let error as DatabaseUnreachable {
                throw AssetError("SVAR_DATABASE_URL: \(error)")
            } catch {
                throw AssetError("SVAR_DATABASE_URL: cannot open \(endpoint) (\(endpoint.explain(error)))")
            }
        }
    }

    /// Ends the database pool (PostgreSQL) so the command exits cleanly.
    func close() async {
        await postgres?.shutdown()
    }

    /// Kept out of `load`: a deferred `let` assigned in a `catch … where` clause crashes the Swift 6.3.1
    /// compiler (MandatoryAllocBoxToStack) in a clean build.
    private static func loadVault(_ environment: [String: String], needsVault: Bool) throws -> IdentityVault {
        do {
            return try IdentityVault.fromEnvironment(environment)
        } catch VaultError.missingKey where !needsVault {
            // A throwaway key: a scheduler pass never opens the vault or signs links.
            return try IdentityVault(masterKey: Array(repeating: 0, count: 32), keyId: "unused")
        }
    }
}

/// The logger of a command's start-up (waiting for the database), at `LOG_LEVEL`.
func commandLogger(_ configuration: SvarConfiguration) -> Logger {
    var logger = Logger(label: "svar.database")
    logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
    return logger
}
