import Foundation
import NIOCore
import PostgresNIO
import SvarStore

/// The PostgreSQL end of `svar store copy`: fills an empty, migrated schema from a `TableSource` inside one
/// transaction, then reads every table back for its checksum before committing. A refused value, a schema that
/// does not match, or a checksum that differs rolls the whole copy back: the target stays empty.
struct TableCopier {
    struct Column {
        var name: String
        var type: String
        var generated: Bool
    }

    let tx: Transaction

    func copy(from source: any TableSource) async throws -> [TableCopyReport] {
        let target = try await tables()
        let sourceTables = try source.tables()
        let missing = Set(sourceTables.keys).symmetricDifference(target.keys).sorted()
        guard missing.isEmpty else {
            throw CopyProblem(
                "the two databases have different tables (\(missing.joined(separator: ", "))): are both at this Svar's version?")
        }
        for (table, columns) in target {
            guard try await tx.value(PostgresQuery(unsafeSQL: "SELECT EXISTS (SELECT 1 FROM \(quoted(table)))"), as: Bool.self) == false
            else {
                throw CopyProblem("the target is not empty (table \(table) has rows): copy only into a new database")
            }
            let names = Set(sourceTables[table] ?? [])
            for column in columns where !names.contains(column.name) && !column.generated {
                throw CopyProblem("column \(table).\(column.name) exists only in the target: are both at this Svar's version?")
            }
        }
        var reports: [TableCopyReport] = []
        for table in try await insertionOrder(Array(target.keys)) {
            let byName = Dictionary(uniqueKeysWithValues: (target[table] ?? []).map { ($0.name, $0) })
            var columns: [Column] = []
            for name in (sourceTables[table] ?? []).sorted() {
                guard let column = byName[name] else {
                    throw CopyProblem("column \(table).\(name) exists only in the source: are both at this Svar's version?")
                }
                columns.append(column)
            }
            let sent = try await copyRows(table, columns, from: source)
            let received = try await checksum(table, columns)
            reports.append(TableCopyReport(table: table, source: sent, target: received))
        }
        if let wrong = reports.first(where: { !$0.matches }) {
            throw CopyProblem("table \(wrong.table) differs after the copy (source \(wrong.source), target \(wrong.target))")
        }
        return reports.sorted { $0.table < $1.table }
    }

    /// Each table with its columns, in the schema the transaction works in.
    func tables() async throws -> [String: [Column]] {
        var tables: [String: [Column]] = [:]
        let rows = try await tx.rows(
            """
            SELECT table_name::text AS t, column_name::text AS c, data_type::text AS type, is_identity::text = 'YES' AS generated
            FROM information_schema.columns WHERE table_schema = current_schema() AND table_name <> 'schema_migrations'
            ORDER BY table_name, ordinal_position
            """)
        for row in rows {
            let column = Column(name: try row.decode("c"), type: try row.decode("type"), generated: try row.decode("generated"))
            tables[try row.decode("t", as: String.self), default: []].append(column)
        }
        return tables
    }

    /// Parents before children, as the foreign keys require.
    func insertionOrder(_ tables: [String]) async throws -> [String] {
        var parents: [String: Set<String>] = [:]
        for row in try await tx.rows(
            """
            SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent FROM pg_constraint c
            WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace
            """)
        {
            let child: String = try row.decode("child")
            let parent: String = try row.decode("parent")
            if child != parent { parents[child, default: []].insert(parent) }
        }
        var ordered: [String] = []
        var placed = Set<String>()
        var left = tables.sorted()
        while !left.isEmpty {
            let ready = left.filter { (parents[$0] ?? []).isSubset(of: placed) }
            guard !ready.isEmpty else { throw CopyProblem("the foreign keys of \(left.joined(separator: ", ")) form a cycle") }
            ordered += ready
            placed.formUnion(ready)
            left.removeAll { placed.contains($0) }
        }
        return ordered
    }

    /// Streams the rows with `COPY … FROM STDIN` (text format), which also writes the values of identity columns as
    /// given; then moves each identity's sequence past the copied numbers.
    private func copyRows(_ table: String, _ columns: [Column], from source: any TableSource) async throws -> TableChecksum {
        var checksum = TableChecksum()
        // PostgresNIO quotes the names without escaping them: only plain names pass (Svar's own all are).
        for name in [table] + columns.map(\.name)
        where !name.utf8.allSatisfy({ $0 == 95 || (97...122).contains($0) || (48...57).contains($0) }) {
            throw CopyProblem("'\(name)' is not a plain table or column name")
        }
        try await tx.connection.copyFrom(table: table, columns: columns.map(\.name), logger: tx.logger) { writer in
            var cursor: [CopyValue]?
            repeat {
                let (rows, next) = try source.batch(table, columns: columns.map(\.name), after: cursor, size: 2_000)
                cursor = next
                var buffer = ByteBuffer()
                for row in rows {
                    checksum.add(row)
                    for (index, (column, value)) in zip(columns, row).enumerated() {
                        if index > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
                        try write(value, as: column, of: table, into: &buffer)
                    }
                    buffer.writeInteger(UInt8(ascii: "\n"))
                }
                if buffer.readableBytes > 0 { try await writer.write(buffer) }
            } while cursor != nil
        }
        for column in columns where column.generated {
            // The next generated number follows the copied ones.
            try await tx.execute(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT setval(pg_get_serial_sequence('\(quoted(table))', '\(column.name)'),
                            COALESCE((SELECT MAX(\(quoted(column.name))) FROM \(quoted(table))), 0) + 1, false)
                        """))
        }
        return checksum
    }

    /// One value in COPY's text format: `\N` for NULL, backslash escapes for tab, line ends and backslash, `t`/`f`,
    /// bytea as `\\x` and hex.
    private func write(_ value: CopyValue, as column: Column, of table: String, into buffer: inout ByteBuffer) throws {
        switch (value, column.type) {
        case (.null, _): buffer.writeStaticString("\\N")
        case (.integer(let n), "bigint"), (.integer(let n), "integer"): buffer.writeString(String(n))
        case (.integer(let n), "boolean") where n == 0 || n == 1: buffer.writeStaticString(n == 1 ? "t" : "f")
        case (.real(let x), "double precision"): buffer.writeString("\(x)")
        case (.text(let s), "text"):
            for byte in s.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
                case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
                case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
                default: buffer.writeInteger(byte)
                }
            }
        case (.bytes(let bytes), "bytea"):
            buffer.writeStaticString("\\\\x")
            let digits = Array("0123456789abcdef".utf8)
            for byte in bytes {
                buffer.writeInteger(digits[Int(byte >> 4)])
                buffer.writeInteger(digits[Int(byte & 0x0f)])
            }
        default:
            throw CopyProblem("\(table).\(column.name): a value \(value) does not fit the target's type \(column.type)")
        }
    }

    /// The target's rows read back, as the source's were: booleans count as the integers SQLite keeps.
    private func checksum(_ table: String, _ columns: [Column]) async throws -> TableChecksum {
        var checksum = TableChecksum()
        let list = columns.map { quoted($0.name) }.joined(separator: ", ")
        for row in try await tx.rows(PostgresQuery(unsafeSQL: "SELECT \(list) FROM \(quoted(table))")) {
            var values: [CopyValue] = []
            for (index, column) in columns.enumerated() {
                let cell = row[index]
                switch column.type {
                case "bigint", "integer": values.append(try cell.decode(Int64?.self).map(CopyValue.integer) ?? .null)
                case "boolean": values.append(try cell.decode(Bool?.self).map { .integer($0 ? 1 : 0) } ?? .null)
                case "text": values.append(try cell.decode(String?.self).map(CopyValue.text) ?? .null)
                case "bytea": values.append(try cell.decode(ByteBuffer?.self).map { .bytes(Array($0.readableBytesView)) } ?? .null)
                case "double precision": values.append(try cell.decode(Double?.self).map(CopyValue.real) ?? .null)
                default: throw CopyProblem("\(table).\(column.name): type \(column.type) is not one Svar copies")
                }
            }
            checksum.add(values)
        }
        return checksum
    }

    /// An identifier from the database's own catalogue, quoted.
    private func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}

extension PostgresStore {
    /// Fills this (migrated, empty) store from `source`, and the local registry store's schema (migrated here
    /// first, and empty) from `registry`, all in one transaction: either everything is copied and checked, or the
    /// target keeps no row. See `TableCopier`.
    public func copyIn(
        from source: any TableSource, registry: (any TableSource)? = nil, registrySchema: String = PostgresRegistryStore.defaultSchema
    ) async throws -> (svar: [TableCopyReport], registry: [TableCopyReport]) {
        if registry != nil { _ = try await registryMigrations(schema: registrySchema, applying: true) }
        return try await transaction { tx in
            // A one-off move of a whole installation: its statements may run longer than a request's.
            try await tx.execute("SELECT set_config('statement_timeout', '0', true)")
            let svar = try await TableCopier(tx: tx).copy(from: source)
            guard let registry else { return (svar, []) }
            try await tx.execute("SELECT set_config('search_path', \(registrySchema), true)")
            return (svar, try await TableCopier(tx: tx).copy(from: registry))
        }
    }
}
