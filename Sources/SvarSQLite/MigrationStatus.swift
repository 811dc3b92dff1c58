import Foundation
import GRDB

/// Reads which migrations a database file has, opening it read-only so that asking never migrates.
enum MigrationStatus {
    static func applied(path: String, migrator: DatabaseMigrator) throws -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        return try queue.read { db in
            guard try db.tableExists("grdb_migrations") else { return [] }
            return try migrator.appliedMigrations(db)
        }
    }
}
