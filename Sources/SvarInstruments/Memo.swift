import Synchronization

/// Values made once per key and kept for the life of the process, for what is derived from the instruments,
/// templates and text packs (fixed once loaded) and needed on every page view or submission. Only for keys from
/// a small, fixed set: nothing is ever dropped.
public final class Memo<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let known = Mutex<[Key: Value]>([:])

    public init() {}

    /// The value for `key`, made by `make` the first time (nothing is kept when it makes none).
    public func value(_ key: Key, make: () -> Value?) -> Value? {
        if let found = known.withLock({ $0[key] }) { return found }
        guard let made = make() else { return nil }
        known.withLock { $0[key] = made }
        return made
    }
}
