import Foundation

/// The JSON form of `instruments/<instrument>/scoring.json`: which method scores the instrument, and its
/// parameters (RAND-36 recodes and scales, EQ-5D dimensions, Kvarus indicators).
public struct ScoringFile: Codable, Sendable {
    public var method: String
    public var algorithm: String
    public var version: String
    public var reference: String?
    public var recodes: [RecodeFile]?
    public var scales: [ScaleFile]?
    public var dimensions: [String]?
    public var vas: String?
    public var indicators: [IndicatorFile]?

    public struct RecodeFile: Codable, Sendable {
        public var items: [String]
        public var values: [String: String]
    }

    public struct ScaleFile: Codable, Sendable {
        public var id: String
        public var items: [String]
        public var halfRuleMinimum: Int
    }

    public struct IndicatorFile: Codable, Sendable {
        public var id: String
        public var rule: String
        public var item: String?
        public var items: [String]?
        public var codes: [Int]?
    }

    /// The versioned algorithm id recorded with every score, e.g. `rand36@1.0`.
    public var algorithmId: String { "\(algorithm)@\(version)" }

    func scaleMeans() throws(DefinitionError) -> ScaleMeansScoring {
        guard let recodes, let scales, !scales.isEmpty else {
            throw DefinitionError(field: "recodes/scales", reason: "method scale-means needs recodes and scales")
        }
        var table: [String: [Int: Decimal]] = [:]
        for (i, recode) in recodes.enumerated() {
            for (codeText, valueText) in recode.values {
                guard let code = Int(codeText), let value = ExactNumber.decimal(valueText) else {
                    throw DefinitionError(field: "recodes[\(i)].values.\(codeText)", reason: "code and value must be numbers")
                }
                for item in recode.items {
                    if table[item]?[code] != nil {
                        throw DefinitionError(field: "recodes[\(i)].items", reason: "item \(item) is recoded twice")
                    }
                    table[item, default: [:]][code] = value
                }
            }
        }
        let parsed = scales.map { ScaleMeansScoring.Scale(id: $0.id, items: $0.items, halfRuleMinimum: $0.halfRuleMinimum) }
        return ScaleMeansScoring(algorithm: algorithmId, recode: table, scales: parsed)
    }

    func indicatorRules() throws(DefinitionError) -> IndicatorScoring {
        guard let indicators, !indicators.isEmpty else {
            throw DefinitionError(field: "indicators", reason: "method indicators needs at least one indicator")
        }
        var parsed: [IndicatorScoring.Indicator] = []
        for (i, indicator) in indicators.enumerated() {
            let field = "indicators[\(i)]"
            let codes = Set(indicator.codes ?? [])
            let rule: IndicatorScoring.Rule
            switch (indicator.rule, indicator.item, indicator.items) {
            case ("value", let item?, nil): rule = .value(item: item)
            case ("codeIn", let item?, nil) where !codes.isEmpty: rule = .codeIn(item: item, codes: codes)
            case ("allIn", nil, let items?) where !codes.isEmpty && !items.isEmpty: rule = .allIn(items: items, codes: codes)
            case ("anyIn", nil, let items?) where !codes.isEmpty && !items.isEmpty: rule = .anyIn(items: items, codes: codes)
            default:
                throw DefinitionError(
                    field: field, reason: "rule '\(indicator.rule)' needs: value → item; codeIn → item + codes; allIn/anyIn → items + codes"
                )
            }
            parsed.append(.init(id: indicator.id, rule: rule))
        }
        return IndicatorScoring(algorithm: algorithmId, indicators: parsed)
    }
}
