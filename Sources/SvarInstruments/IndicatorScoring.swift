import Foundation

/// Indicators derived from single answers (the Kvarus follow-up form): raw values and yes/no indicators such
/// as "great benefit" (benefit 4–5). Defined as data so a registry can replace the form and its indicators.
public struct IndicatorScoring: Sendable, Equatable {
    public enum Rule: Sendable, Equatable {
        /// The answer itself.
        case value(item: String)
        /// True when the answer is one of `codes`; missing when unanswered.
        case codeIn(item: String, codes: Set<Int>)
        /// True when every item is answered with one of `codes`; missing when any is unanswered.
        case allIn(items: [String], codes: Set<Int>)
        /// True when any answered item is one of `codes`; false when all are answered and none is.
        case anyIn(items: [String], codes: Set<Int>)

        var items: [String] {
            switch self {
            case .value(let item), .codeIn(let item, _): return [item]
            case .allIn(let items, _), .anyIn(let items, _): return items
            }
        }
    }

    public struct Indicator: Sendable, Equatable {
        public let id: String
        public let rule: Rule
    }

    public let algorithm: String
    public let indicators: [Indicator]

    public func score(_ answers: Answers) -> Score {
        let values = indicators.map { indicator -> Score.Value in
            switch indicator.rule {
            case .value(let item):
                return Score.Value(key: indicator.id, number: answers[item].map { Decimal($0) })
            case .codeIn(let item, let codes):
                return Score.Value(key: indicator.id, flag: answers[item].map { codes.contains($0) })
            case .allIn(let items, let codes):
                let given = items.compactMap { answers[$0] }
                let flag: Bool? = given.count < items.count ? nil : given.allSatisfy(codes.contains)
                return Score.Value(key: indicator.id, flag: flag)
            case .anyIn(let items, let codes):
                let given = items.compactMap { answers[$0] }
                let flag: Bool? = given.contains(where: codes.contains) ? true : (given.count < items.count ? nil : false)
                return Score.Value(key: indicator.id, flag: flag)
            }
        }
        return Score(instrument: answers.instrument, algorithm: algorithm, valueSet: nil, values: values)
    }
}
