import Foundation

/// `instruments/<instrument>/mid.json`: per score, the smallest change that matters (the minimal important
/// difference, MID) and where the number comes from, so the clinicians' summary can say whether a change is
/// more than noise, and a reader can check the claim.
///
/// An entry is one of: `{"value": "7"}` (a published figure); `{"perValueSet": {"uk-1997": "0.082"}}`
/// (published per value set); `{"method": "instrumentDefined"}` (computed from each value set, see
/// `ValueSet.instrumentDefinedMID`); `{"method": "halfNormSD"}` (half the population SD of `norms.json`);
/// or `{"reason": "noMidOnFile", "note": "…"}`. Every entry with a number names `source` and `shortSource`.
public struct ImportantDifferenceFile: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var value: String?
        public var perValueSet: [String: String]?
        public var method: String?
        public var source: String?
        public var shortSource: String?
        public var reason: String?
        public var note: String?
    }

    public var instrument: String
    public var scores: [String: Entry]
}

/// The resolved MIDs of one instrument: a number per score (and per value set where the index depends on it).
public struct ImportantDifferences: Sendable, Equatable {
    public struct Difference: Sendable, Equatable {
        public let value: Decimal
        public let shortSource: String
        public let source: String
        public init(value: Decimal, shortSource: String, source: String) {
            self.value = value
            self.shortSource = shortSource
            self.source = source
        }
    }

    /// Per score key, per value set id ("" where the value set does not matter).
    var differences: [String: [String: Difference]]

    public init() { differences = [:] }

    /// The MID of a score; `valueSet` picks the EQ-5D index's one.
    public func difference(_ key: String, valueSet: String?) -> Difference? {
        guard let byValueSet = differences[key] else { return nil }
        return byValueSet[valueSet ?? ""] ?? byValueSet[""]
    }
}

extension ImportantDifferenceFile {
    func resolved(scoreKeys: [String], scoring: Instrument.Scoring, norms: ScaleNorms?) throws(DefinitionError)
        -> ImportantDifferences
    {
        var out = ImportantDifferences()
        for (key, entry) in scores.sorted(by: { $0.key < $1.key }) {
            let field = "scores.\(key)"
            guard scoreKeys.contains(key) else { throw DefinitionError(field: field, reason: "'\(key)' is not a score of this instrument") }
            if entry.reason != nil {
                guard entry.reason == "noMidOnFile", entry.note?.isEmpty == false else {
                    throw DefinitionError(field: "\(field).reason", reason: "use 'noMidOnFile' with a 'note' saying why")
                }
                continue
            }
            guard let source = entry.source, !source.isEmpty, let short = entry.shortSource, !short.isEmpty else {
                throw DefinitionError(field: "\(field).source", reason: "a MID needs its 'source' and 'shortSource'")
            }
            func difference(_ text: String, _ at: String) throws(DefinitionError) -> ImportantDifferences.Difference {
                guard let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")), value > 0 else {
                    throw DefinitionError(field: at, reason: "'\(text)' is not a positive decimal number")
                }
                return ImportantDifferences.Difference(value: value, shortSource: short, source: source)
            }
            var byValueSet: [String: ImportantDifferences.Difference] = [:]
            switch (entry.value, entry.perValueSet, entry.method) {
            case (let value?, nil, nil):
                byValueSet[""] = try difference(value, "\(field).value")
            case (nil, let table?, nil):
                let known = Set(valueSets(scoring).map(\.id))
                for (id, value) in table.sorted(by: { $0.key < $1.key }) {
                    guard known.contains(id) else {
                        throw DefinitionError(field: "\(field).perValueSet.\(id)", reason: "'\(id)' is not a value set of this instrument")
                    }
                    byValueSet[id] = try difference(value, "\(field).perValueSet.\(id)")
                }
            case (nil, nil, "instrumentDefined"):
                guard case .eq5d(let eq5d) = scoring, key == "index" else {
                    throw DefinitionError(field: "\(field).method", reason: "'instrumentDefined' applies to the EQ-5D index only")
                }
                for set in eq5d.valueSets {
                    let value = set.instrumentDefinedMID(dimensions: eq5d.dimensions, levels: eq5d.levels)
                    byValueSet[set.id] = ImportantDifferences.Difference(value: value, shortSource: short, source: source)
                }
            case (nil, nil, "halfNormSD"):
                guard case .norm(_, let sd)? = norms?.scales[key] else {
                    throw DefinitionError(
                        field: "\(field).method", reason: "'halfNormSD' needs a norm with an SD for '\(key)' in norms.json")
                }
                // Through the shortest text of the SD ("20.42"), so the half is exact rather than a binary float's.
                let exact = Decimal(string: "\(sd)", locale: Locale(identifier: "en_US_POSIX")) ?? Decimal(sd)
                byValueSet[""] = ImportantDifferences.Difference(value: exact / 2, shortSource: short, source: source)
            default:
                throw DefinitionError(
                    field: field,
                    reason: "give exactly one of 'value', 'perValueSet', 'method' (instrumentDefined, halfNormSD) or a 'reason'")
            }
            out.differences[key] = byValueSet
        }
        return out
    }

    private func valueSets(_ scoring: Instrument.Scoring) -> [ValueSet] {
        if case .eq5d(let eq5d) = scoring { return eq5d.valueSets }
        return []
    }
}
