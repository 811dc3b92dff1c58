import Foundation
import GRDB
import SvarTestSupport
import Testing

@testable import SvarSQLite

/// Commits hand the WAL's checkpoint to a connection of its own instead of running it themselves; only a WAL
/// that grew past the inline limit is checkpointed by the commit, as SQLite would have.
@Suite struct BackgroundCheckpointTests {
    /// A pool with a table and the checkpoint hook on its writer.
    func database(_ name: String, threshold: Int32, inlineLimit: Int32) throws -> (DatabasePool, BackgroundCheckpoint, String) {
        let path = ScratchFolder.file(name).path
        let pool = try DatabasePool(path: path)
        try pool.write { try $0.execute(sql: "CREATE TABLE t (n INTEGER PRIMARY KEY, filler BLOB NOT NULL)") }
        let checkpoints = try BackgroundCheckpoint(
            path: path, configuration: Configuration(), threshold: threshold, inlineLimit: inlineLimit)
        pool.writeWithoutTransaction { checkpoints.install(on: $0) }
        return (pool, checkpoints, path)
    }

    /// Commits of about two pages each (a 6 KB row), one transaction each.
    func commit(_ writer: any DatabaseWriter, rows: Range<Int>) async throws {
        for n in rows {
            try await writer.write { try $0.execute(sql: "INSERT INTO t VALUES (?, zeroblob(6000))", arguments: [n]) }
        }
    }

    /// The pages in the WAL (what a PASSIVE checkpoint reports as the log's size).
    func walPages(_ pool: DatabasePool) async throws -> Int {
        try await pool.writeWithoutTransaction { db in
            try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)").map { $0[1] as Int } ?? 0
        }
    }

    /// Waits until `condition` holds (the background pass runs on another thread), for at most 30 s.
    func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<3_000 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
    }

    @Test func commitsPastTheThresholdHandTheCheckpointToTheBackground() async throws {
        let (pool, checkpoints, path) = try database("checkpoint-background", threshold: 100, inlineLimit: 1_000_000)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await commit(pool, rows: 0..<300)
        try await eventually { checkpoints.runs.load(ordering: .relaxed) > 0 }
        #expect(checkpoints.runs.load(ordering: .relaxed) > 0)
        #expect(checkpoints.inlineRuns.load(ordering: .relaxed) == 0)
        #expect(try await pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM t") } == 300)
    }

    @Test func aWALPastTheInlineLimitIsCheckpointedByTheCommit() async throws {
        let (pool, checkpoints, path) = try database("checkpoint-inline", threshold: 1_000_000, inlineLimit: 50)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await commit(pool, rows: 0..<100)
        #expect(checkpoints.inlineRuns.load(ordering: .relaxed) > 0)
        #expect(checkpoints.runs.load(ordering: .relaxed) == 0)
    }

    @Test func belowTheThresholdNothingIsCheckpointed() async throws {
        let (pool, checkpoints, path) = try database("checkpoint-quiet", threshold: 1_000_000, inlineLimit: 1_000_000)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await commit(pool, rows: 0..<600)
        // SQLite's own automatic checkpoint (1,000 pages) is replaced, not added to: the WAL holds every commit.
        let walPages = try await walPages(pool)
        #expect(walPages > 1_100, "\(walPages) pages in the WAL")
        #expect(checkpoints.runs.load(ordering: .relaxed) == 0 && checkpoints.inlineRuns.load(ordering: .relaxed) == 0)
    }

    @Test func aPoolThatOutlivesItsCheckpointerCheckpointsInline() async throws {
        var (pool, checkpoints, path): (DatabasePool, BackgroundCheckpoint?, String) = try database(
            "checkpoint-orphan", threshold: 100, inlineLimit: 1_000_000)
        defer { try? FileManager.default.removeItem(atPath: path) }
        weak let gone = checkpoints
        checkpoints = nil
        #expect(gone == nil)
        try await commit(pool, rows: 0..<600)
        // About 1,200 pages were written; checkpointed inline past 100, the WAL restarted from its beginning.
        let walPages = try await walPages(pool)
        #expect(walPages < 400, "\(walPages) pages in the WAL")
    }

    @Test func theStoreInstallsItOnAFileDatabase() async throws {
        let path = ScratchFolder.file("checkpoint-store").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteStore(path: path)
        #expect(store.checkpoints != nil)
        try await store.db.write { try $0.execute(sql: "CREATE TABLE t (n INTEGER PRIMARY KEY, filler BLOB NOT NULL)") }
        try await commit(store.db, rows: 0..<700)
        try await eventually { store.checkpoints?.runs.load(ordering: .relaxed) ?? 0 > 0 }
        #expect(store.checkpoints?.runs.load(ordering: .relaxed) ?? 0 > 0)
        #expect(try SQLiteStore(inMemory: ()).checkpoints == nil)
    }
}
