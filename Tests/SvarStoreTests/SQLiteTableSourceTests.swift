import Foundation
import GRDB
import SvarDomain
import SvarStore
import SvarTestSupport
import Testing

@testable import SvarSQLite

/// `svar store copy` reads a SQLite file in batches, each after the last key read: every row exactly once, from
/// tables with a rowid and from tables kept in the order of their primary key (WITHOUT ROWID) alike.
@Suite struct SQLiteTableSourceTests {
    /// Reads every row of `table` in batches of `size`, as the copy does.
    func readAll(_ source: SQLiteTableSource, _ table: String, size: Int) throws -> (rows: [[CopyValue]], batches: Int) {
        let columns = try #require(try source.tables()[table])
        var rows: [[CopyValue]] = []
        var cursor: [CopyValue]?
        var batches = 0
        repeat {
            let (batch, next) = try source.batch(table, columns: columns, after: cursor, size: size)
            rows += batch
            cursor = next
            batches += 1
        } while cursor != nil
        return (rows, batches)
    }

    @Test func everyRowIsReadOnceFromTablesWithAndWithoutARowid() async throws {
        let path = ScratchFolder.file("copy-source").path
        let store = try SQLiteStore(path: path)
        for resh in ["30", "10", "20"] { try await store.createUnit(Unit(resh: resh, name: "Unit \(resh)"), actor: "t", at: t0) }
        // Nudges written out of key order, two per course on different days, so the key has more than one column.
        let nudges = [("c-3", "2026-02-01"), ("c-1", "2026-03-01"), ("c-2", "2026-01-15"), ("c-1", "2026-01-01"), ("c-3", "2026-01-01")]
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            for (course, due) in nudges {
                try db.execute(
                    sql: "INSERT INTO clinician_nudges (course_id, milestone, due_date, created_at) VALUES (?, 'evaluation', ?, 0)",
                    arguments: [course, due])
            }
        }
        try queue.close()
        let source = try SQLiteTableSource(path: path)
        let keys = try await source.db.read { db in
            (try SQLiteTableSource.key(of: "clinician_nudges", in: db), try SQLiteTableSource.key(of: "units", in: db))
        }
        #expect(keys.0 == ["course_id", "milestone", "due_date"])
        #expect(keys.1 == ["rowid"])

        let read = try readAll(source, "clinician_nudges", size: 2)
        let columns = try #require(try source.tables()["clinician_nudges"])
        let pairs = read.rows.map { row -> String in
            let named = Dictionary(uniqueKeysWithValues: zip(columns, row))
            guard case .text(let course)? = named["course_id"], case .text(let due)? = named["due_date"] else { return "?" }
            return "\(course) \(due)"
        }
        #expect(pairs == nudges.map { "\($0.0) \($0.1)" }.sorted(), "in key order, each once")
        #expect(read.batches == 3)

        let units = try readAll(source, "units", size: 2)
        let unitColumns = try #require(try source.tables()["units"])
        let reshIndex = try #require(unitColumns.firstIndex(of: "resh"))
        #expect(units.rows.map { $0[reshIndex] } == [.text("30"), .text("10"), .text("20")], "in the order written")
        #expect(units.batches == 2)
    }
}
