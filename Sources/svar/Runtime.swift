import Foundation
import SvarAssets
import SvarDomain
import SvarInstruments
import SvarSQLite
import SvarServices
import SvarStore

/// Everything a command needs, built from the environment the same way for `serve`, `tick` and `demo`.
struct Runtime {
    let configuration: SvarConfiguration
    let directories: AssetDirectories
    let catalogue: InstrumentCatalogue
    let scheduleProtocol: ScheduleProtocol
    let store: SQLiteStore
    let vault: IdentityVault

    /// Loads everything; `needsVault: false` (for `svar tick`, which never reads identities) lets the vault key
    /// be absent.
    static func load(_ environment: [String: String] = ProcessInfo.processInfo.environment, needsVault: Bool = true) throws -> Runtime {
        do {
            let configuration = try SvarConfiguration.fromEnvironment(environment)
            let directories = try AssetDirectories.resolve(environment: environment)
            let catalogue = try InstrumentLoader.catalogue(directories)
            let scheduleProtocol = try ProtocolLoader.load(id: configuration.protocolId, directories: directories, catalogue: catalogue)
            let vault = try loadVault(environment, needsVault: needsVault)
            let store: SQLiteStore
            do {
                store = try SQLiteStore(path: configuration.databasePath)
            } catch {
                throw AssetError("SVAR_DATABASE_URL: cannot open sqlite:\(configuration.databasePath) (\(error))")
            }
            return Runtime(
                configuration: configuration, directories: directories, catalogue: catalogue,
                scheduleProtocol: scheduleProtocol, store: store, vault: vault)
        } catch {
            throw fail("cannot start: \(error)")
        }
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
