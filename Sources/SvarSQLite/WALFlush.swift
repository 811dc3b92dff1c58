import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Makes committed WAL frames durable beside the writer instead of inside its commits.
///
/// With `synchronous = FULL` the one writer connection waits in every group commit while the disk takes the
/// group's WAL frames, and no other submission can start meanwhile. A group committed with `NORMAL` has its
/// frames written (not yet synced) when its commit returns; this flushes the WAL file with one `fdatasync` on a
/// thread of its own and only then lets the group's callers go on, while the writer already runs the next
/// group. Groups that commit during a flush share the next one. A caller is still answered only once its
/// transaction is on disk: `fdatasync` on the WAL file covers every frame written to it before the call, and
/// SQLite overwrites frames only after a checkpoint has copied them into the database file and synced it.
///
/// Nothing leaves the machine before it is on disk either: the forwarding and delivery passes claim their rows in
/// a commit of their own at FULL, which syncs the WAL up to and past the frames of every submission they read.
///
/// A failed flush leaves the kernel's copy of the file in doubt (a later `fdatasync` may report success for
/// pages it dropped), so it fails that flush's callers and every flush after it: the store then refuses
/// grouped writes until the process restarts and SQLite recovers the WAL from what is on disk.
final class WALFlush: Sendable {
    typealias Done = @Sendable (Result<Void, any Error>) -> Void

    private struct State {
        var waiting: [Done] = []
        var scheduled = false
        var failure: FlushFailed?
        /// The WAL file whose directory entry was last synced (a new file needs its entry on disk too).
        var syncedFile: FileIdentity?
    }

    /// Which file a path named at the time of a flush: SQLite may delete the WAL and create another.
    private struct FileIdentity: Equatable {
        let device: UInt64
        let inode: UInt64
    }

    struct FlushFailed: Error, CustomStringConvertible {
        let operation: String
        let code: Int32
        var description: String { "\(operation) of the write-ahead log failed (errno \(code)); restart the service" }
    }

    private let walPath: String
    private let directoryPath: String
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "svar.wal-flush", qos: .userInitiated)
    /// `fdatasync` calls so far (tests check that groups share them).
    let flushes = Atomic<Int>(0)

    /// - Parameter databasePath: the database file; its WAL is the file beside it with `-wal` appended.
    init(databasePath: String) {
        walPath = databasePath + "-wal"
        let directory = (databasePath as NSString).deletingLastPathComponent
        directoryPath = directory.isEmpty ? "." : directory
    }

    /// Calls `done` once everything committed to the WAL before this call is on disk (or the flush failed).
    func afterFlush(_ done: @escaping Done) {
        let run = state.withLock { state -> Bool in
            state.waiting.append(done)
            guard !state.scheduled else { return false }
            state.scheduled = true
            return true
        }
        if run { queue.async { self.flush() } }
    }

    /// Waits until everything committed to the WAL so far is on disk.
    func flushed() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            afterFlush { continuation.resume(with: $0) }
        }
    }

    private func flush() {
        let (waiting, failedBefore, syncedFile) = state.withLock { state in
            let waiting = state.waiting
            state.waiting = []
            state.scheduled = false
            return (waiting, state.failure, state.syncedFile)
        }
        let outcome: Result<Void, any Error>
        if let failedBefore {
            outcome = .failure(failedBefore)
        } else {
            switch sync(knownFile: syncedFile) {
            case .success(let file):
                state.withLock { $0.syncedFile = file }
                outcome = .success(())
            case .failure(let failure):
                state.withLock { $0.failure = failure }
                outcome = .failure(failure)
            }
            flushes.add(1, ordering: .relaxed)
        }
        for done in waiting { done(outcome) }
    }

    private func sync(knownFile: FileIdentity?) -> Result<FileIdentity, FlushFailed> {
        let descriptor = open(walPath, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return .failure(FlushFailed(operation: "opening", code: errno)) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return .failure(FlushFailed(operation: "reading the status", code: errno)) }
        guard fdatasync(descriptor) == 0 else { return .failure(FlushFailed(operation: "fdatasync", code: errno)) }
        let file = FileIdentity(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
        if knownFile != file {
            // A WAL file SQLite created since the last flush: its name must survive a power cut as well.
            let directory = open(directoryPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard directory >= 0 else { return .failure(FlushFailed(operation: "opening the folder", code: errno)) }
            defer { close(directory) }
            guard fsync(directory) == 0 else { return .failure(FlushFailed(operation: "fsync of the folder", code: errno)) }
        }
        return .success(file)
    }
}
