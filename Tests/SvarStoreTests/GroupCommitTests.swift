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
}
