import HummingbirdBcrypt
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// bcrypt on a small thread pool of its own. A hash costs hundreds of milliseconds of CPU: on the event loops
/// or the cooperative pool, a handful of password guesses would stall every other request (`/health` went
/// from 2.5 ms to 790 ms). At most `maximumWaiting` hashes wait; beyond that a login is answered "busy".
public enum PasswordHashing {
    public struct Busy: Error, Sendable {}

    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: max(1, System.coreCount / 2))
        pool.start()
        return pool
    }()
    static let waiting = NIOLockedValueBox(0)
    static let maximumWaiting = 32

    /// Verifies against `hash`, or (no such account) against a decoy, so the answer takes as long either way.
    public static func verify(_ password: String, hash: String?) async throws -> Bool {
        try await run { Bcrypt.verify(password, hash: hash ?? decoy) && hash != nil }
    }

    /// Made once, on the pool, the first time an unknown name is tried.
    private static let decoy = Bcrypt.hash("svar-no-such-user", cost: 12)

    public static func hash(_ password: String, cost: UInt8) async throws -> String {
        try await run { Bcrypt.hash(password, cost: cost) }
    }

    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async throws -> T {
        let admitted = waiting.withLockedValue { count in
            guard count < maximumWaiting else { return false }
            count += 1
            return true
        }
        guard admitted else { throw Busy() }
        defer { waiting.withLockedValue { $0 -= 1 } }
        return try await pool.runIfActive(body)
    }
}
