import Foundation

/// An EQ-5D value set: the published coefficients that turn a health state into an index.
///
/// One general additive model covers every set (see instruments/README.md); countries differ only in data.
/// Each stored index records the value set's id so it can be recomputed when sets change.
public struct ValueSet: Sendable, Equatable {
    public let id: String
    public let instrument: String
    public let name: String
    public let citation: String
    public let doi: String?
    public let isDefault: Bool
    public let start: Decimal
    /// mainEffects[dimension][level]; an absent level has no term.
    public let mainEffects: [String: [Int: Decimal]]
    public let terms: [Term]
    public let decisions: [String]

    public struct Term: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            /// Once, if at least one dimension has a level in `levels` (constant, N3, N4, N5).
            case any
            /// If this dimension has a level in `levels` (Canada's MO45 …).
            case dimension(String)
            /// coefficient × max(0, n − minus)^power, n = dimensions with a level in `levels` (D1, I2², Num45sq).
            case count(minus: Int, power: Int)
        }

        public let name: String
        public let kind: Kind
        public let levels: Set<Int>
        public let coefficient: Decimal
    }

    /// The index of a complete health state (levels in dimension order), exact and unrounded.
    public func index(levels: [(dimension: String, level: Int)]) -> Decimal {
        var sum = start
        for (dimension, level) in levels {
            if let effect = mainEffects[dimension]?[level] { sum += effect }
        }
        for term in terms {
            switch term.kind {
            case .any:
                if levels.contains(where: { term.levels.contains($0.level) }) { sum += term.coefficient }
            case .dimension(let dimension):
                if let level = levels.first(where: { $0.dimension == dimension })?.level, term.levels.contains(level) {
                    sum += term.coefficient
                }
            case .count(let minus, let power):
                let n = levels.filter { term.levels.contains($0.level) }.count
                let base = max(0, n - minus)
                var factor = 1
                for _ in 0..<power { factor *= base }
                if factor != 0 { sum += term.coefficient * Decimal(factor) }
            }
        }
        return sum
    }
}

/// The JSON form of a value set file (`instruments/<instrument>/valuesets/<id>.json`).
public struct ValueSetFile: Codable, Sendable {
    public var id: String
    public var instrument: String
    public var name: String
    public var citation: String
    public var doi: String?
    public var source: String?
    public var `default`: Bool?
    public var start: String
    public var mainEffects: [String: [String: String]]
    public var terms: [TermFile]?
    public var decisions: [String]?

    public struct TermFile: Codable, Sendable {
        public var name: String
        public var kind: String
        public var levels: [Int]
        public var coefficient: String
        public var dimension: String?
        public var minus: Int?
        public var power: Int?
    }

    /// Converts to a `ValueSet`, refusing anything that is not exact or not understood; errors name the field.
    public func valueSet(dimensions: [String], levels: ClosedRange<Int>) throws(DefinitionError) -> ValueSet {
        func number(_ text: String, _ field: String) throws(DefinitionError) -> Decimal {
            guard let value = ExactNumber.decimal(text) else {
                throw DefinitionError(field: field, reason: "'\(text)' is not a decimal number")
            }
            return value
        }
        let start = try number(self.start, "start")
        var effects: [String: [Int: Decimal]] = [:]
        for (dimension, byLevel) in mainEffects {
            guard dimensions.contains(dimension) else {
                throw DefinitionError(
                    field: "mainEffects.\(dimension)", reason: "unknown dimension (expected one of \(dimensions.joined(separator: ", ")))")
            }
            for (levelText, coefficient) in byLevel {
                guard let level = Int(levelText), levels.contains(level) else {
                    throw DefinitionError(
                        field: "mainEffects.\(dimension).\(levelText)", reason: "level must be \(levels.lowerBound)–\(levels.upperBound)")
                }
                effects[dimension, default: [:]][level] = try number(coefficient, "mainEffects.\(dimension).\(levelText)")
            }
        }
        var parsedTerms: [ValueSet.Term] = []
        for (i, term) in (terms ?? []).enumerated() {
            let field = "terms[\(i)]"
            let kind: ValueSet.Term.Kind
            switch term.kind {
            case "any": kind = .any
            case "dimension":
                guard let dimension = term.dimension, dimensions.contains(dimension) else {
                    throw DefinitionError(
                        field: "\(field).dimension", reason: "a dimension term needs one of \(dimensions.joined(separator: ", "))")
                }
                kind = .dimension(dimension)
            case "count":
                guard let power = term.power, (1...4).contains(power), let minus = term.minus, minus >= 0 else {
                    throw DefinitionError(field: "\(field)", reason: "a count term needs minus ≥ 0 and power 1–4")
                }
                kind = .count(minus: minus, power: power)
            default:
                throw DefinitionError(field: "\(field).kind", reason: "'\(term.kind)' is not one of any, dimension, count")
            }
            guard !term.levels.isEmpty, term.levels.allSatisfy(levels.contains) else {
                throw DefinitionError(field: "\(field).levels", reason: "levels must be within \(levels.lowerBound)–\(levels.upperBound)")
            }
            parsedTerms.append(
                .init(
                    name: term.name, kind: kind, levels: Set(term.levels),
                    coefficient: try number(term.coefficient, "\(field).coefficient")))
        }
        return ValueSet(
            id: id, instrument: instrument, name: name, citation: citation, doi: doi,
            isDefault: self.default ?? false, start: start, mainEffects: effects,
            terms: parsedTerms, decisions: decisions ?? [])
    }
}

/// A problem in an instrument data file: which file, which field inside it, and why.
public struct DefinitionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String?
    public let field: String
    public let reason: String

    public init(file: String? = nil, field: String, reason: String) {
        self.file = file
        self.field = field
        self.reason = reason
    }

    /// The same error, attributed to `file` unless it already names one.
    public func inFile(_ file: String) -> DefinitionError {
        DefinitionError(file: self.file ?? file, field: field, reason: reason)
    }

    public var description: String {
        let place = file.map { "\($0): " } ?? ""
        return field.isEmpty ? "\(place)\(reason)" : "\(place)\(field): \(reason)"
    }
}
