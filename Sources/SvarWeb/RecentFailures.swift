import Foundation

/// Counts recent failures per client in fixed memory, for the link checks and the login form.
///
/// Two generations of at most `capacity` clients each: a client's count is what it has in both. A generation
/// ends after `window` seconds or when it is full, so memory stays bounded however many addresses an attacker
/// uses, while a client failing fast is still caught (its failures land in the current generation).
/// Only failures are counted: a valid link or a correct login never consults this.
actor RecentFailures {
    let limit: Int
    let window: TimeInterval
    let capacity: Int
    private var current: [String: Int] = [:]
    private var previous: [String: Int] = [:]
    private var generationStart: Date?

    init(limit: Int, window: TimeInterval, capacity: Int = 50_000) {
        self.limit = limit
        self.window = window
        self.capacity = capacity
    }

    /// True when the client has reached the limit.
    func isBlocked(_ client: String, now: Date) -> Bool {
        rotate(now)
        return count(client) >= limit
    }

    /// Counts one failure; returns true when the client has now reached the limit.
    @discardableResult
    func record(_ client: String, now: Date) -> Bool {
        rotate(now)
        if current[client] == nil, current.count >= capacity { startGeneration(now) }
        current[client, default: 0] += 1
        return count(client) >= limit
    }

    /// How many clients are held (for the bounded-memory test).
    var heldClients: Int { current.count + previous.count }

    private func count(_ client: String) -> Int { (current[client] ?? 0) + (previous[client] ?? 0) }

    private func rotate(_ now: Date) {
        guard let start = generationStart else {
            generationStart = now
            return
        }
        let age = now.timeIntervalSince(start)
        if age >= 2 * window {
            previous = [:]
            current = [:]
            generationStart = now
        } else if age >= window {
            startGeneration(now)
        }
    }

    private func startGeneration(_ now: Date) {
        previous = current
        current = [:]
        current.reserveCapacity(min(capacity, 1024))
        generationStart = now
    }
}
