import Foundation
import GRDB
import SvarTestSupport
import Testing

@testable import SvarSQLite

/// Writes arriving together share a transaction, and each still gets its own outcome: one that fails leaves
/// nothing behind and takes no other write with it.
@Suite struct GroupCommitTests {
    struct Refused: Error, Equatable { let n: Int }

    @Test func concurrentWritesShareTransactionsAndFailAlone() async throws {
        let path = ScratchFolder.file("group").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let pool = try DatabasePool(path: path)
        try await pool.write { try $0.execute(sql: "CREATE TABLE t (n INTEGER PRIMARY KEY)") }
        let group = GroupCommit(writer: pool, limit: 16)
        let outcomes = await withTaskGroup(of: (Int, Result<Void, any Error>).self) { tasks in
            for n in 0..<300 {
                tasks.addTask {
                    do {
                        try await group.write { db in
                            try db.execute(sql: "INSERT INTO t (n) VALUES (?)", arguments: [n])
                            if n % 10 == 3 { throw Refused(n: n) }  // after its insert: the savepoint must undo it
                        }
                        return (n, .success(()))
                    } catch {
                        return (n, .failure(error))
                    }
                }
            }
            var all: [Int: Result<Void, any Error>] = [:]
            for await (n, outcome) in tasks { all[n] = outcome }
            return all
        }
        for n in 0..<300 {
            switch outcomes[n] {
            case .success: #expect(n % 10 != 3, "\(n) should have failed")
            case .failure(let error): #expect((error as? Refused) == Refused(n: n), "\(n): \(error)")
            case nil: Issue.record("\(n) has no outcome")
            }
        }
        let stored = try await pool.read { try Int.fetchAll($0, sql: "SELECT n FROM t ORDER BY n") }
        #expect(stored == (0..<300).filter { $0 % 10 != 3 })
        let groups = group.groups.load(ordering: .relaxed)
        #expect(groups >= 300 / 16 && groups < 300, "\(groups) transactions for 300 writes")
    }

    @Test func aWriteAloneIsCommittedBeforeItReturns() async throws {
        let pool = try DatabaseQueue()
        try await pool.write { try $0.execute(sql: "CREATE TABLE t (n INTEGER PRIMARY KEY)") }
        let group = GroupCommit(writer: pool)
        try await group.write { try $0.execute(sql: "INSERT INTO t (n) VALUES (1)") }
        #expect(try await pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM t") } == 1)
        await #expect(throws: DatabaseError.self) {
            try await group.write { try $0.execute(sql: "INSERT INTO t (n) VALUES (1)") }
        }
        try await group.write { try $0.execute(sql: "INSERT INTO t (n) VALUES (2)") }
        #expect(try await pool.read { try Int.fetchAll($0, sql: "SELECT n FROM t") } == [1, 2])
    }

    /// With the WAL flushed beside the writer, a caller still resumes only after a flush that began after its commit,
    /// callers arriving together share flushes, and the writer is back at FULL for every other write.
    @Test func withAFlushEachCallerResumesAfterTheWALIsSynced() async throws {
        let path = ScratchFolder.file("flushed").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let pool = try DatabasePool(path: path)
        try await pool.write { try $0.execute(sql: "CREATE TABLE t (n INTEGER PRIMARY KEY)") }
        let flush = WALFlush(databasePath: path)
        let group = GroupCommit(writer: pool, flush: flush)
        for n in 0..<5 {
            let before = flush.flushes.load(ordering: .relaxed)
            try await group.write { try $0.execute(sql: "INSERT INTO t (n) VALUES (?)", arguments: [n]) }
            #expect(flush.flushes.load(ordering: .relaxed) > before, "write \(n) resumed before a flush")
        }
        let before = flush.flushes.load(ordering: .relaxed)
        await withTaskGroup(of: Void.self) { tasks in
            for n in 5..<305 {
                tasks.addTask { try? await group.write { try $0.execute(sql: "INSERT INTO t (n) VALUES (?)", arguments: [n]) } }
            }
        }
        #expect(try await pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM t") } == 305)
        let shared = flush.flushes.load(ordering: .relaxed) - before
        #expect(shared >= 1 && shared < 300, "\(shared) flushes for 300 writes")
        #expect(try await pool.write { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 2)
    }

    /// A flush that fails leaves the kernel's copy in doubt: its callers get the failure, although their rows were
    /// committed, and so does every grouped write after it, even once the WAL can be synced again.
    @Test func aFailedFlushFailsItsCallersAndEveryGroupAfterIt() async throws {
        let path = ScratchFolder.file("unflushable").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let pool = try DatabasePool(path: path)
        try await pool.write { try $0.execute(sql: "CREATE TABLE t (n INTEGER PRIMARY KEY)") }
        // A flush pointed at a WAL that is not there (yet): it cannot open it, as when the disk fails.
        let elsewhere = ScratchFolder.file("elsewhere").path
        defer { try? FileManager.default.removeItem(atPath: elsewhere) }
        let group = GroupCommit(writer: pool, flush: WALFlush(databasePath: elsewhere + "/db.sqlite"))
        await #expect(throws: WALFlush.FlushFailed.self) {
            try await group.write { try $0.execute(sql: "INSERT INTO t (n) VALUES (1)") }
        }
        #expect(try await pool.read { try Int.fetchAll($0, sql: "SELECT n FROM t") } == [1])
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: elsewhere + "/db.sqlite-wal", contents: Data()))
        await #expect(throws: WALFlush.FlushFailed.self) {
            try await group.write { try $0.execute(sql: "INSERT INTO t (n) VALUES (2)") }
        }
        await #expect(throws: WALFlush.FlushFailed.self) { try await group.flushed() }
    }
}
