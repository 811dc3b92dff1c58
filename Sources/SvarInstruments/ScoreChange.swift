import Foundation

/// One scored value at one time point, as the change summary reads it.
public struct ScoredValue: Sendable, Equatable {
    public var number: Decimal?
    public var flag: Bool?
    /// The EQ-5D value set the index was computed with (a change across value sets is not a change in health).
    public var valueSet: String?
    public init(number: Decimal? = nil, flag: Bool? = nil, valueSet: String? = nil) {
        self.number = number
        self.flag = flag
        self.valueSet = valueSet
    }
    var isMissing: Bool { number == nil && flag == nil }
}

/// One answered questionnaire of one instrument: when, at which milestone, and its scores by key.
public struct ScoredTimePoint: Sendable, Equatable {
    public var at: Date
    public var milestone: String
    public var values: [String: ScoredValue]
    public init(at: Date, milestone: String, values: [String: ScoredValue]) {
        self.at = at
        self.milestone = milestone
        self.values = values
    }
}

/// A score from its first to its latest value, and what the change means: the question a clinician has in
/// the first ten seconds on a patient's page.
public struct ScoreChange: Sendable, Equatable {
    public enum Verdict: String, Sendable, Equatable {
        /// Better by at least the MID (or, for a yes/no indicator, turned the better way).
        case improved
        case worsened
        /// Moved by less than the MID, or a yes/no indicator that stayed.
        case withinDifference
        /// Moved, but no MID is on file to judge it by.
        case noDifferenceOnFile
        /// Only one time point has a value.
        case onlyOnce
        /// The two values were computed with different value sets.
        case differentValueSets
    }

    public let key: String
    public let first: (point: ScoredTimePoint, value: ScoredValue)
    public let latest: (point: ScoredTimePoint, value: ScoredValue)?
    /// Latest minus first, for numbers.
    public let change: Decimal?
    public let difference: ImportantDifferences.Difference?
    public let better: BetterDirection?
    public let verdict: Verdict

    public static func == (a: ScoreChange, b: ScoreChange) -> Bool {
        a.key == b.key && a.first.point == b.first.point && a.first.value == b.first.value && a.latest?.point == b.latest?.point
            && a.latest?.value == b.latest?.value && a.change == b.change && a.difference == b.difference && a.verdict == b.verdict
    }
}

extension Instrument {
    /// The change of every score that has a value, first answer to latest (`points` in any order), in the
    /// instrument's score order.
    public func changes(_ points: [ScoredTimePoint]) -> [ScoreChange] {
        let ordered = points.sorted { $0.at < $1.at }
        return scoreKeys.compactMap { key in
            let answered = ordered.compactMap { p in p.values[key].flatMap { $0.isMissing ? nil : (point: p, value: $0) } }
            guard let first = answered.first else { return nil }
            let better = reading.better[key]
            guard answered.count > 1, let latest = answered.last else {
                return ScoreChange(
                    key: key, first: first, latest: nil, change: nil,
                    difference: importantDifferences.difference(key, valueSet: first.value.valueSet),
                    better: better, verdict: .onlyOnce)
            }
            let difference = importantDifferences.difference(key, valueSet: latest.value.valueSet)
            func judged(_ change: Decimal, _ difference: ImportantDifferences.Difference?) -> ScoreChange.Verdict {
                if first.value.valueSet != latest.value.valueSet { return .differentValueSets }
                guard let difference, let better else { return change == 0 ? .withinDifference : .noDifferenceOnFile }
                guard (change < 0 ? -change : change) >= difference.value else { return .withinDifference }
                return (change > 0) == (better == .higher) ? .improved : .worsened
            }
            if let a = first.value.number, let b = latest.value.number {
                return ScoreChange(
                    key: key, first: first, latest: latest, change: b - a, difference: difference, better: better,
                    verdict: judged(b - a, difference))
            }
            let verdict: ScoreChange.Verdict =
                first.value.flag == latest.value.flag
                ? .withinDifference : (latest.value.flag == true) == (better != .lower) ? .improved : .worsened
            return ScoreChange(key: key, first: first, latest: latest, change: nil, difference: nil, better: better, verdict: verdict)
        }
    }
}
