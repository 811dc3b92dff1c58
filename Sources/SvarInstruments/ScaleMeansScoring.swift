import Foundation

/// Scale scores as the mean of recoded items (RAND-36 1.0): recode each answered item to 0–100, then average
/// the answered items of each scale. A scale is missing only when none of its items was answered (RAND's
/// rule); the count of answered items lets a registry apply the SF-36 half rule instead.
public struct ScaleMeansScoring: Sendable, Equatable {
    public struct Scale: Sendable, Equatable {
        public let id: String
        public let items: [String]
        /// The least number of answered items for the SF-36 "half rule".
        public let halfRuleMinimum: Int
    }

    public let algorithm: String
    /// recode[linkId][precode] = value 0–100.
    public let recode: [String: [Int: Decimal]]
    public let scales: [Scale]
    /// The means met so far, by sum and answered count: a `Decimal` division and rounding per scale was about a
    /// tenth of the submit path's CPU samples. The sums the recodes can make are few.
    private let means = Memo<MeanKey, Decimal>()

    private struct MeanKey: Hashable, Sendable {
        let sum: Decimal
        let answered: Int
    }

    public init(algorithm: String, recode: [String: [Int: Decimal]], scales: [Scale]) {
        self.algorithm = algorithm
        self.recode = recode
        self.scales = scales
    }

    public func score(_ answers: Answers) -> Score {
        let values = scales.map { scale -> Score.Value in
            var sum = Decimal(0)
            var answered = 0
            for item in scale.items {
                guard let code = answers[item], let recoded = recode[item]?[code] else { continue }
                sum += recoded
                answered += 1
            }
            let mean = means.value(MeanKey(sum: sum, answered: answered)) {
                ScaleMeansScoring.mean(sum, answered)
            }
            return Score.Value(key: scale.id, number: mean, itemsAnswered: answered, itemsInScale: scale.items.count)
        }
        return Score(instrument: answers.instrument, algorithm: algorithm, valueSet: nil, values: values)
    }

    /// Equal definitions score alike, whatever each has met so far.
    public static func == (a: ScaleMeansScoring, b: ScaleMeansScoring) -> Bool {
        a.algorithm == b.algorithm && a.recode == b.recode && a.scales == b.scales
    }

    /// The mean, exact when it terminates within 12 decimals (RAND means nearly always do: they are
    /// multiples of 100/(k·n)); otherwise rounded half away from zero at the 12th decimal (66.666666666667),
    /// far below any reported precision (1 dp).
    static func mean(_ sum: Decimal, _ count: Int) -> Decimal? {
        guard count > 0 else { return nil }
        return ExactNumber.rounded(sum / Decimal(count), places: 12)
    }

    /// Whether the SF-36 half rule is met for `scale` in `score`.
    public func halfRuleMet(_ score: Score, scale: Scale) -> Bool {
        (score.value(scale.id)?.itemsAnswered ?? 0) >= scale.halfRuleMinimum
    }
}
