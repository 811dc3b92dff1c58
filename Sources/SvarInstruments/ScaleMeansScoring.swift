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

    public func score(_ answers: Answers) -> Score {
        let values = scales.map { scale -> Score.Value in
            var sum = Decimal(0)
            var answered = 0
            for item in scale.items {
                guard let code = answers[item], let recoded = recode[item]?[code] else { continue }
                sum += recoded
                answered += 1
            }
            let mean = answered == 0 ? nil : sum / Decimal(answered)
            return Score.Value(key: scale.id, number: mean, itemsAnswered: answered, itemsInScale: scale.items.count)
        }
        return Score(instrument: answers.instrument, algorithm: algorithm, valueSet: nil, values: values)
    }

    /// Whether the SF-36 half rule is met for `scale` in `score`.
    public func halfRuleMet(_ score: Score, scale: Scale) -> Bool {
        (score.value(scale.id)?.itemsAnswered ?? 0) >= scale.halfRuleMinimum
    }
}
