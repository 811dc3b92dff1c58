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
    /// Per score key, which way is better: `higher` or `lower` (for a yes/no indicator, `higher` means yes).
    public var better: [String: String]?
    /// Per score key, the decimals shown (default 1): an index needs 3, a count of days none.
    public var places: [String: Int]?
}

/// Which way a score is better, so a page can say whether a change is an improvement.
public enum BetterDirection: String, Sendable, Equatable {
    case higher, lower
}

/// How people read an instrument's scores: names, which way is better, and how many decimals to show.
public struct ScoreReading: Sendable, Equatable {
    public var labels: [String: [Language: String]]
    public var better: [String: BetterDirection]
    public var places: [String: Int]
    public init(labels: [String: [Language: String]] = [:], better: [String: BetterDirection] = [:], places: [String: Int] = [:]) {
        self.labels = labels
        self.better = better
        self.places = places
    }
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
    /// Every score the instrument makes needs a name in each language and a direction: a page must never show a
    /// raw key or leave the reader to guess whether a rise is good news.
    func definitions(scoreKeys: [String]) throws(DefinitionError) -> (charts: [ChartDefinition], reading: ScoreReading) {
        var reading = ScoreReading()
        for (key, texts) in (scoreLabels ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard scoreKeys.contains(key) else {
                throw DefinitionError(field: "scoreLabels.\(key)", reason: "'\(key)' is not a score of this instrument")
            }
            reading.labels[key] = try Self.texts(texts, field: "scoreLabels.\(key)")
        }
        for (key, text) in (better ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard scoreKeys.contains(key) else {
                throw DefinitionError(field: "better.\(key)", reason: "'\(key)' is not a score of this instrument")
            }
            guard let direction = BetterDirection(rawValue: text) else {
                throw DefinitionError(field: "better.\(key)", reason: "'\(text)' is not one of higher, lower")
            }
            reading.better[key] = direction
        }
        for (key, places) in (places ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard scoreKeys.contains(key) else {
                throw DefinitionError(field: "places.\(key)", reason: "'\(key)' is not a score of this instrument")
            }
            guard (0...4).contains(places) else { throw DefinitionError(field: "places.\(key)", reason: "give 0 to 4 decimals") }
            reading.places[key] = places
        }
        for key in scoreKeys {
            if reading.labels[key] == nil { throw DefinitionError(field: "scoreLabels.\(key)", reason: "every score needs a name") }
            if reading.better[key] == nil {
                throw DefinitionError(field: "better.\(key)", reason: "say whether higher or lower is better")
            }
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
        return (charts, reading)
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
        case .eq5d(let s): return ["index", "vas"] + s.dimensions
        case .indicators(let s): return s.indicators.map(\.id)
        }
    }

    /// A score key's name for people (the key itself where the instrument's data give none).
    public func scoreLabel(_ key: String, _ language: Language) -> String { reading.labels[key]?[language] ?? key }

    /// Decimals shown for a score (1 where the data say nothing).
    public func places(_ key: String) -> Int { reading.places[key] ?? 1 }
}
