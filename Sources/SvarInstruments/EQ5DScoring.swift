import Foundation

/// EQ-5D (5L or 3L): the health state, its index under a chosen value set, and the VAS as given.
///
/// The five levels are always kept; the index is computed only for a complete state (a missing dimension is
/// never imputed), exactly, and rounded only for display.
public struct EQ5DScoring: Sendable, Equatable {
    public let algorithm: String
    public let dimensions: [String]
    public let vasItem: String
    public let levels: ClosedRange<Int>
    public let valueSets: [ValueSet]

    public var defaultValueSet: ValueSet? { valueSets.first { $0.isDefault } }

    public func valueSet(id: String?) -> ValueSet? {
        guard let id else { return defaultValueSet }
        return valueSets.first { $0.id == id }
    }

    /// The five-digit state ("12345"), or nil when a dimension is missing.
    public func state(_ answers: Answers) -> String? {
        let digits = dimensions.compactMap { answers[$0] }
        guard digits.count == dimensions.count else { return nil }
        return digits.map(String.init).joined()
    }

    public func score(_ answers: Answers, valueSet: ValueSet) -> Score {
        let levels = dimensions.compactMap { dimension in answers[dimension].map { (dimension: dimension, level: $0) } }
        let index: Decimal? = levels.count == dimensions.count ? valueSet.index(levels: levels) : nil
        var values = [Score.Value(key: "index", number: index)]
        values.append(Score.Value(key: "vas", number: answers[vasItem].map { Decimal($0) }))
        for dimension in dimensions {
            values.append(Score.Value(key: dimension, number: answers[dimension].map { Decimal($0) }))
        }
        return Score(instrument: answers.instrument, algorithm: algorithm, valueSet: valueSet.id, values: values)
    }
}
