import Foundation
import GRDB
import Synchronization

/// Writes that arrive together share one transaction and one `fsync`: each runs in its own savepoint, so one
/// that fails is rolled back alone and its caller gets its own error, and every caller resumes only after the
/// commit is on disk. SQLite has one writer: with `synchronous = FULL`, submissions one transaction each were
/// bound by writing the same index pages to the WAL again for every submission; grouped, they share them.
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

    init(writer: any DatabaseWriter, limit: Int = 64) {
        self.writer = writer
        self.limit = limit
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
                outcomes = try await writer.write { db in
                    works.map { work in
                        Result {
                            try db.inSavepoint {
                                try work(db)
                                return .commit
                            }
                        }
                    }
                }
                groups.add(1, ordering: .relaxed)
            } catch {
                outcomes = batch.map { _ in .failure(error) }
            }
            for (pending, outcome) in zip(batch, outcomes) { pending.continuation.resume(with: outcome) }
        }
    }
}
