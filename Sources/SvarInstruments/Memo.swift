import Synchronization

/// Values made once per key and kept for the life of the process, for what is derived from the instruments,
/// templates and text packs (fixed once loaded) and needed on every page view or submission. Only for keys from
/// a small, fixed set: nothing is ever dropped. Past `limit` keys, values are made but no longer kept, so a set
/// that turns out larger than expected costs time, not memory.
public final class Memo<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let known = Mutex<[Key: Value]>([:])
    private let limit: Int

    public init(limit: Int = .max) {
        self.limit = limit
    }

    /// The value for `key`, made by `make` the first time (nothing is kept when it makes none).
    public func value(_ key: Key, make: () -> Value?) -> Value? {
        if let found = known.withLock({ $0[key] }) { return found }
        guard let made = make() else { return nil }
        known.withLock { known in
            if known.count < limit { known[key] = made }
        }
        return made
    }

    /// Values kept so far.
    public var count: Int { known.withLock { $0.count } }
}
