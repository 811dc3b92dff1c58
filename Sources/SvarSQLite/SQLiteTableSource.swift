import Foundation
import GRDB
import SvarStore

/// A SQLite database read table by table for `svar store copy`, read-only. Rows come in rowid order, the order
/// they were written, so the target keeps it (scores are read back in that order).
public struct SQLiteTableSource: TableSource {
    let db: DatabaseQueue

    /// Opens `path` read-only; the caller has brought its schema up to date first (open a store on it).
    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw CopyProblem("sqlite:\(path) does not exist") }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        db = try DatabaseQueue(path: path, configuration: configuration)
    }

    public func tables() throws -> [String: [String]] {
        try db.read { db in
            let names = try String.fetchAll(
                db,
                sql: """
                    SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'grdb_migrations'
                    """)
            var tables: [String: [String]] = [:]
            for name in names {
                tables[name] = try db.columns(in: name).map(\.name)
            }
            return tables
        }
    }

    public func batch(_ table: String, columns: [String], after cursor: Int64?, size: Int) throws -> (rows: [[CopyValue]], next: Int64?) {
        // Names come from the database's own catalogue; quoted all the same.
        let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
        return try db.read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT rowid AS copy_rowid, \(list) FROM \"\(table)\" WHERE rowid > ? ORDER BY rowid LIMIT ?",
                arguments: [cursor ?? Int64.min, size])
            let values = rows.map { row in
                columns.map { column -> CopyValue in
                    switch (row[column] as DatabaseValue).storage {
                    case .null: return .null
                    case .int64(let n): return .integer(n)
                    case .double(let x): return .real(x)
                    case .string(let s): return .text(s)
                    case .blob(let data): return .bytes([UInt8](data))
                    }
                }
            }
            let last: Int64? = rows.last?["copy_rowid"]
            return (values, rows.count < size ? nil : last)
        }
    }
}
