import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Serialises schema migration between processes that open the same SQLite file at once (two `svar`
/// commands started together on a new file): GRDB reads the applied migrations before it writes, so without
/// a lock both would apply the same migration and one would fail.
///
/// The lock is `flock` on a file of its own beside the database (`<database>.migrate-lock`): SQLite's own
/// POSIX locks on the database file must not be touched, since closing any other descriptor of that file
/// would release them.
enum MigrationLock {
    static func whileHeld<T>(beside databasePath: String, _ body: () throws -> T) throws -> T {
        let path = databasePath + ".migrate-lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw MigrationLockError(path: path, errno: errno) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw MigrationLockError(path: path, errno: errno) }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }
}

struct MigrationLockError: Error, CustomStringConvertible {
    let path: String
    let errno: Int32
    var description: String { "cannot lock \(path) for migration: \(String(cString: strerror(errno)))" }
}
