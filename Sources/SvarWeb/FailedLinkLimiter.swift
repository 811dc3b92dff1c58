import Foundation

/// Counts failed link checks per client address and refuses a client that fails too often (a token cannot
/// be guessed, but a flood of attempts should still be slowed down).
actor FailedLinkLimiter {
    let limit: Int
    let window: TimeInterval
    private var failures: [String: [Date]] = [:]

    init(limit: Int = 30, window: TimeInterval = 600) {
        self.limit = limit
        self.window = window
    }

    func isBlocked(_ client: String, now: Date) -> Bool {
        let recent = (failures[client] ?? []).filter { now.timeIntervalSince($0) < window }
        failures[client] = recent.isEmpty ? nil : recent
        return recent.count >= limit
    }

    func recordFailure(_ client: String, now: Date) {
        failures[client, default: []].append(now)
        if failures.count > 10_000 {
            failures = failures.filter { $0.value.contains { now.timeIntervalSince($0) < window } }
        }
    }
}
