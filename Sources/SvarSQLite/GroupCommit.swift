import Foundation
import GRDB
import Synchronization

/// Writes that arrive together share one transaction and one `fsync`: each runs in its own savepoint, so one
/// that fails is rolled back alone and its caller gets its own error, and every caller resumes only after the
/// commit is on disk. SQLite has one writer: with `synchronous = FULL`, submissions one transaction each were
/// bound by writing the same index pages to the WAL again for every submission; grouped, they share them. With
/// a `WALFlush`, the `fsync` runs beside the writer (see there), which starts the next group meanwhile.
final class GroupCommit: Sendable {
    typealias Work = @Sendable (Database) throws -> Void

    private struct Pending {
        let work: Work
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var pending: [Pending] = []
        var draining = false
    }

    private let writer: any DatabaseWriter
    private let state = Mutex(State())
    /// Transactions committed so far (tests check that writes arriving together share them).
    let groups = Atomic<Int>(0)
    /// At most this many writes in one transaction, so none waits long behind a crowd.
    private let limit: Int

    /// Nil: each group's commit syncs the WAL itself (`synchronous` as the connection has it, FULL in the store).
    let flush: WALFlush?

    init(writer: any DatabaseWriter, limit: Int = 64, flush: WALFlush? = nil) {
        self.writer = writer
        self.limit = limit
        self.flush = flush
    }

    /// Runs `work` in the next group's transaction; returns once that transaction committed (or throws the
    /// work's own error, or the commit's).
    func write(_ work: @escaping Work) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let leads = state.withLock { state in
                state.pending.append(Pending(work: work, continuation: continuation))
                guard !state.draining else { return false }
                state.draining = true
                return true
            }
            // The first caller of a quiet period drains until nothing is pending; the others only wait.
            if leads { Task { await self.drain() } }
        }
    }

    private func drain() async {
        while true {
            let batch = state.withLock { state -> [Pending] in
                let batch = Array(state.pending.prefix(limit))
                state.pending.removeFirst(batch.count)
                if batch.isEmpty { state.draining = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            let works = batch.map(\.work)
            let outcomes: [Result<Void, any Error>]
            do {
                outcomes = try await commit(works)
                groups.add(1, ordering: .relaxed)
            } catch {
                outcomes = batch.map { _ in .failure(error) }
            }
            guard let flush else {
                for (pending, outcome) in zip(batch, outcomes) { pending.continuation.resume(with: outcome) }
                continue
            }
            // The writer goes on with the next group while this one's frames reach the disk.
            flush.afterFlush { flushed in
                for (pending, outcome) in zip(batch, outcomes) {
                    pending.continuation.resume(with: outcome.flatMap { flushed })
                }
            }
        }
    }

    /// Returns once every group committed so far is on disk (at once without a `WALFlush`: commits sync).
    func flushed() async throws {
        try await flush?.flushed()
    }

    private func commit(_ works: [Work]) async throws -> [Result<Void, any Error>] {
        let run: @Sendable (Database) -> [Result<Void, any Error>] = { db in
            works.map { work in
                Result {
                    try db.inSavepoint {
                        try work(db)
                        return .commit
                    }
                }
            }
        }
        guard flush != nil else { return try await writer.write(run) }
        return try await writer.writeWithoutTransaction { db in
            // Written, not synced, at the commit: the flush syncs it. Every other write keeps FULL.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            let committed = Result { () throws -> [Result<Void, any Error>] in
                var outcomes: [Result<Void, any Error>] = []
                try db.inTransaction {
                    outcomes = run(db)
                    return .commit
                }
                return outcomes
            }
            try db.execute(sql: "PRAGMA synchronous = FULL")
            return try committed.get()
        }
    }
}
