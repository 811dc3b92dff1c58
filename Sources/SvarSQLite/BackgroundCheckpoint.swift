import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// Copies the WAL into the database file beside the writer instead of inside its commits.
///
/// SQLite's automatic checkpoint runs in the commit that takes the WAL past 1,000 pages, on the one writer
/// connection: every writer waits while it copies those pages into the database file and `fsync`s it. Under a
/// stream of submissions that was about a third of the time each group commit held the writer. Here the
/// writer's commit hook only counts: past `threshold` pages it hands the checkpoint to a connection of its own,
/// which runs it PASSIVE (it never waits for, nor blocks, the writer or a reader), and the writer goes on. Should
/// the WAL still reach `inlineLimit` pages (the checkpointer falls behind or fails), the commit checkpoints
/// inline as SQLite would have, so the WAL stays bounded. Durability is unchanged: a commit is on disk once its
/// WAL frames are `fsync`'d, whoever copies them later.
final class BackgroundCheckpoint: Sendable {
    private let connection: DatabaseQueue
    private let threshold: Int32
    private let inlineLimit: Int32
    private let scheduled = Atomic<Bool>(false)
    /// Checkpoints run by the background connection so far (tests check that commits hand them over).
    let runs = Atomic<Int>(0)
    /// Checkpoints a commit ran itself because the WAL reached `inlineLimit`.
    let inlineRuns = Atomic<Int>(0)

    init(path: String, configuration: Configuration, threshold: Int32 = 1_000, inlineLimit: Int32 = 16_000) throws {
        connection = try DatabaseQueue(path: path, configuration: configuration)
        self.threshold = threshold
        self.inlineLimit = inlineLimit
    }

    /// Replaces SQLite's automatic checkpoint on `writer` (the pool's writer connection) with this one.
    func install(on writer: Database) {
        // The hook holds a small retained box, never released (SQLite tells no one when a connection closes), whose
        // weak reference lets this object go with its store. A pool that outlives it checkpoints inline at the
        // threshold, as SQLite's own hook would.
        let context = Unmanaged.passRetained(HookTarget(self)).toOpaque()
        sqlite3_wal_hook(
            writer.sqliteConnection,
            { context, connection, _, pages in
                guard let context else { return SQLITE_OK }
                let target = Unmanaged<HookTarget>.fromOpaque(context).takeUnretainedValue()
                if let checkpoint = target.checkpoint {
                    checkpoint.committed(pages: pages, on: connection)
                } else if pages >= target.threshold {
                    BackgroundCheckpoint.checkpointInline(connection)
                }
                return SQLITE_OK
            }, context)
    }

    private final class HookTarget: Sendable {
        weak let checkpoint: BackgroundCheckpoint?
        let threshold: Int32

        init(_ checkpoint: BackgroundCheckpoint) {
            self.checkpoint = checkpoint
            threshold = checkpoint.threshold
        }
    }

    private func committed(pages: Int32, on writer: OpaquePointer?) {
        if pages >= inlineLimit {
            Self.checkpointInline(writer)
            inlineRuns.add(1, ordering: .relaxed)
            return
        }
        guard pages >= threshold, !scheduled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        DispatchQueue.global(qos: .utility).async { self.run() }
    }

    /// What SQLite's own hook does: a PASSIVE checkpoint on the committing connection, inside its commit.
    private static func checkpointInline(_ writer: OpaquePointer?) {
        sqlite3_wal_checkpoint_v2(writer, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
    }

    private func run() {
        // Cleared first: a commit that lands while this copies schedules the next pass.
        scheduled.store(false, ordering: .releasing)
        do {
            try connection.writeWithoutTransaction { _ = try $0.checkpoint(.passive) }
            runs.add(1, ordering: .relaxed)
        } catch {
            // Nothing is lost: the pages stay in the WAL, and the next pass (or a commit at `inlineLimit`) copies them.
        }
    }
}
