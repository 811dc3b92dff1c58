import Foundation

/// How the clinicians' patient page draws an instrument's scores, as data in the instrument's optional
/// `charts.json`: which scores, on which axis, under which title, with each score's name in every language.
public struct ChartFile: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        /// `profile`: several scores side by side, one line per answered questionnaire (RAND-36's eight scales);
        /// `trend`: one score over time.
        public var kind: String
        public var scores: [String]
        /// The value axis: `[low, high]`.
        public var range: [Double]
        public var title: [String: String]
    }

    public var charts: [Entry]
    /// People's names for score keys, per language.
    public var scoreLabels: [String: [String: String]]?
}

/// One chart an instrument's results are drawn in.
public struct ChartDefinition: Sendable, Equatable {
    public enum Kind: String, Sendable { case profile, trend }
    public let kind: Kind
    public let scores: [String]
    public let range: ClosedRange<Double>
    public let title: [Language: String]
}

extension ChartFile {
    /// Checks the charts against the scores the instrument produces; errors name the field.
    func definitions(scoreKeys: [String]) throws(DefinitionError) -> (charts: [ChartDefinition], labels: [String: [Language: String]]) {
        var labels: [String: [Language: String]] = [:]
        for (key, texts) in (scoreLabels ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard scoreKeys.contains(key) else {
                throw DefinitionError(field: "scoreLabels.\(key)", reason: "'\(key)' is not a score of this instrument")
            }
            labels[key] = try Self.texts(texts, field: "scoreLabels.\(key)")
        }
        let charts = try charts.enumerated().map { (i, entry) throws(DefinitionError) -> ChartDefinition in
            let field = "charts[\(i)]"
            guard let kind = ChartDefinition.Kind(rawValue: entry.kind) else {
                throw DefinitionError(field: "\(field).kind", reason: "'\(entry.kind)' is not one of profile, trend")
            }
            guard !entry.scores.isEmpty, kind == .profile || entry.scores.count == 1 else {
                throw DefinitionError(
                    field: "\(field).scores", reason: kind == .trend ? "a trend shows exactly one score" : "name at least one score")
            }
            for (j, key) in entry.scores.enumerated() where !scoreKeys.contains(key) {
                throw DefinitionError(field: "\(field).scores[\(j)]", reason: "'\(key)' is not a score of this instrument")
            }
            guard entry.range.count == 2, entry.range[0] < entry.range[1] else {
                throw DefinitionError(field: "\(field).range", reason: "give [low, high] with low below high")
            }
            return ChartDefinition(
                kind: kind, scores: entry.scores, range: entry.range[0]...entry.range[1],
                title: try Self.texts(entry.title, field: "\(field).title"))
        }
        return (charts, labels)
    }

    static func texts(_ texts: [String: String], field: String) throws(DefinitionError) -> [Language: String] {
        var out: [Language: String] = [:]
        for language in InstrumentDefinition.requiredLanguages {
            guard let text = texts[language.rawValue], !text.isEmpty else {
                throw DefinitionError(field: "\(field).\(language.rawValue)", reason: "the text is missing")
            }
            out[language] = text
        }
        return out
    }
}

extension Instrument {
    /// The keys of the scores this instrument produces.
    public var scoreKeys: [String] {
        switch scoring {
        case .scaleMeans(let s): return s.scales.map(\.id)
        case .eq5d: return ["index", "vas"]
        case .indicators(let s): return s.indicators.map(\.id)
        }
    }

    /// A score key's name for people (the key itself where the instrument's data give none).
    public func scoreLabel(_ key: String, _ language: Language) -> String { scoreLabels[key]?[language] ?? key }
}
