import Foundation

/// Where tests put the files they make (SQLite databases with their `-wal`, `-shm` and lock files): one folder
/// per test process, removed when the process exits. Files put straight into the temporary directory were
/// left behind by every run, about a hundred a run.
public enum ScratchFolder {
    public static let url: URL = {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "svar-tests-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: ScratchFolder.url) }
        return folder
    }()

    /// A new, unused file name in the folder: `prefix-UUID.sqlite`.
    public static func file(_ prefix: String, extension ext: String = "sqlite") -> URL {
        url.appendingPathComponent("\(prefix)-\(UUID().uuidString).\(ext)")
    }
}
