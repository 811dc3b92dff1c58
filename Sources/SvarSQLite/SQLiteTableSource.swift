import Foundation
import GRDB
import SvarStore

/// A SQLite database read table by table for `svar store copy`, read-only. Rows come in rowid order, the order
/// they were written, so the target keeps it (scores are read back in that order); a table without a rowid comes
/// in the order of its primary key.
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

    public func batch(_ table: String, columns: [String], after cursor: [CopyValue]?, size: Int) throws -> (
        rows: [[CopyValue]], next: [CopyValue]?
    ) {
        try db.read { db in
            // A table's rows are read in the order of its key: the rowid (the order they were written), or the
            // primary key of a table kept WITHOUT ROWID. Each batch starts after the last key read.
            let key = try Self.key(of: table, in: db)
            // Names come from the database's own catalogue; quoted all the same.
            let keyList = key.map { "\"\($0)\"" }.joined(separator: ", ")
            let selected = key.enumerated().map { "\"\($1)\" AS copy_key_\($0)" } + columns.map { "\"\($0)\"" }
            let after = cursor.map { "WHERE (\(keyList)) > (\(Array(repeating: "?", count: $0.count).joined(separator: ", ")))" } ?? ""
            let rows = try Row.fetchAll(
                db, sql: "SELECT \(selected.joined(separator: ", ")) FROM \"\(table)\" \(after) ORDER BY \(keyList) LIMIT ?",
                arguments: StatementArguments((cursor ?? []).map(Self.databaseValue) + [size.databaseValue]))
            let values = rows.map { row in columns.map { Self.copyValue(row[$0]) } }
            let last = rows.last.map { row in key.indices.map { Self.copyValue(row["copy_key_\($0)"]) } }
            return (values, rows.count < size ? nil : last)
        }
    }

    /// The columns that order `table`: its rowid, or its primary key when it has no rowid.
    static func key(of table: String, in db: Database) throws -> [String] {
        let withoutRowID = try Bool.fetchOne(
            db, sql: "SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ?", arguments: [table])
        return withoutRowID == true ? try db.primaryKey(table).columns : ["rowid"]
    }

    static func copyValue(_ value: DatabaseValue) -> CopyValue {
        switch value.storage {
        case .null: return .null
        case .int64(let n): return .integer(n)
        case .double(let x): return .real(x)
        case .string(let s): return .text(s)
        case .blob(let data): return .bytes([UInt8](data))
        }
    }

    static func databaseValue(_ value: CopyValue) -> DatabaseValue {
        switch value {
        case .null: return .null
        case .integer(let n): return n.databaseValue
        case .real(let x): return x.databaseValue
        case .text(let s): return s.databaseValue
        case .bytes(let bytes): return Data(bytes).databaseValue
        }
    }
}
