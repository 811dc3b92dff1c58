import Foundation
import SvarInstruments
import SvarStore

/// Anonymous statistics per unit and milestone (§ 4-3: published statistics must be anonymous).
///
/// Small-cell suppression: a count from 1 to `minCell − 1` is shown as "<minCell", never as the number; a
/// response rate or a mean resting on fewer than `minCell` answered responses is withheld. No totals are
/// given, so no withheld figure can be recovered by subtracting the shown cells from a total.
public struct StatisticsReport: Sendable {
    public static let smallestMinCell = 3

    /// One shown (or withheld) figure.
    public enum Figure: Sendable, Equatable {
        case count(Int)
        /// Exact decimal text, rounded for display.
        case decimal(String)
        case suppressed
    }

    /// What a mean describes: one score key of one instrument (and, for an EQ-5D index, one value set).
    public struct Measure: Sendable, Hashable, Comparable {
        public var instrument: String
        public var key: String
        public var valueSet: String?

        public init(instrument: String, key: String, valueSet: String?) {
            self.instrument = instrument
            self.key = key
            self.valueSet = valueSet
        }

        /// `rand36.pain`, `eq5d-5l.index@no-2024`.
        public var name: String { "\(instrument).\(key)" + (valueSet.map { "@\($0)" } ?? "") }

        public static func < (a: Measure, b: Measure) -> Bool { a.name < b.name }
    }

    public struct Mean: Sendable, Equatable {
        public var n: Figure
        public var mean: Figure

        public init(n: Figure, mean: Figure) {
            self.n = n
            self.mean = mean
        }
    }

    public struct Row: Sendable, Equatable {
        public var unit: String
        public var unitName: String
        public var milestone: String
        public var invited: Figure
        public var answered: Figure
        public var responseRate: Figure
        public var means: [Measure: Mean]
    }

    public let minCell: Int
    public let rows: [Row]
    /// Every measure of any row, in column order.
    public let measures: [Measure]

    public var suppressedLabel: String { "<\(minCell)" }
    public var note: String {
        "Counts from 1 to \(minCell - 1) are shown as \"\(suppressedLabel)\"; response rates and means resting on fewer than \(minCell) "
            + "answered responses are withheld. No totals are given, so a withheld figure cannot be recovered by subtraction. "
            + "Patients who reserved or asked for deletion are left out."
    }

    public init(_ input: StatisticsInput, minCell: Int) throws(StatisticsError) {
        guard minCell >= Self.smallestMinCell else {
            throw StatisticsError(
                field: "minCell", reason: "must be at least \(Self.smallestMinCell) (got \(minCell)): smaller cells identify patients")
        }
        self.minCell = minCell
        var values: [String: [Measure: [String]]] = [:]
        for score in input.scores {
            let measure = Measure(instrument: score.instrument, key: score.key, valueSet: score.valueSet)
            values["\(score.unit)\u{0}\(score.milestone)", default: [:]][measure, default: []] += score.numbers
        }
        measures = Set(values.values.flatMap(\.keys)).sorted()
        rows = input.cells.map { cell in
            let enough = cell.answered >= minCell
            var means: [Measure: Mean] = [:]
            for (measure, numbers) in values["\(cell.unit)\u{0}\(cell.milestone)"] ?? [:] {
                let shown = enough && numbers.count >= minCell
                means[measure] = Mean(
                    n: Self.count(numbers.count, minCell),
                    mean: shown ? Self.mean(numbers, places: measure.key == "index" ? 3 : 1) : .suppressed)
            }
            let rate = Decimal(cell.answered) / Decimal(max(cell.invited, 1))
            return Row(
                unit: cell.unit, unitName: cell.unitName, milestone: cell.milestone, invited: Self.count(cell.invited, minCell),
                answered: Self.count(cell.answered, minCell),
                responseRate: enough ? .decimal(ExactNumber.text(rate, places: 3)) : .suppressed, means: means)
        }
    }

    static func count(_ n: Int, _ minCell: Int) -> Figure { (1..<minCell).contains(n) ? .suppressed : .count(n) }

    /// Exact: the stored texts are summed as decimals; only the result is rounded (3 dp for an EQ-5D index, else 1 dp).
    static func mean(_ numbers: [String], places: Int) -> Figure {
        let sum = numbers.compactMap(ExactNumber.decimal).reduce(Decimal(0), +)
        return .decimal(ExactNumber.text(sum / Decimal(numbers.count), places: places))
    }
}

/// A report setting out of range; `field` names it.
public struct StatisticsError: Error, Sendable, Equatable, CustomStringConvertible {
    public let field: String
    public let reason: String
    public var description: String { "\(field): \(reason)" }
}

extension StatisticsReport {
    /// `{"minCell", "note", "rows": [{unit, unitName, milestone, invited, answered, responseRate, means, suppressed}]}`;
    /// a withheld count is the text "<5", a withheld rate or mean is null and named in `suppressed`.
    public var json: JSONValue {
        .object([
            ("minCell", .int(minCell)),
            ("note", .string(note)),
            (
                "rows",
                .array(
                    rows.map { row in
                        var suppressed: [JSONValue] = []
                        func figure(_ f: Figure, _ name: String, count: Bool) -> JSONValue {
                            switch f {
                            case .count(let n): return .int(n)
                            case .decimal(let text): return .number(text)
                            case .suppressed:
                                suppressed.append(.string(name))
                                return count ? .string(suppressedLabel) : .null
                            }
                        }
                        var members: [(String, JSONValue)] = [
                            ("unit", .string(row.unit)), ("unitName", .string(row.unitName)), ("milestone", .string(row.milestone)),
                            ("invited", figure(row.invited, "invited", count: true)),
                            ("answered", figure(row.answered, "answered", count: true)),
                            ("responseRate", figure(row.responseRate, "responseRate", count: false)),
                        ]
                        let means = measures.compactMap { measure -> JSONValue? in
                            guard let mean = row.means[measure] else { return nil }
                            return .object([
                                ("instrument", .string(measure.instrument)), ("key", .string(measure.key)),
                                ("valueSet", measure.valueSet.map(JSONValue.string) ?? .null),
                                ("n", figure(mean.n, "\(measure.name).n", count: true)),
                                ("mean", figure(mean.mean, "\(measure.name).mean", count: false)),
                            ])
                        }
                        members.append(("means", .array(means)))
                        members.append(("suppressed", .array(suppressed)))
                        return .object(members)
                    })
            ),
        ])
    }

    /// One line per unit and milestone; withheld figures read "<5"; a measure a cell has no value of is empty.
    public var csv: String {
        var header = ["unit", "unit_name", "milestone", "invited", "answered", "response_rate"]
        for measure in measures { header += ["n_\(measure.name)", "mean_\(measure.name)"] }
        var lines = [header]
        for row in rows {
            var line = [row.unit, row.unitName, row.milestone, text(row.invited), text(row.answered), text(row.responseRate)]
            for measure in measures {
                let mean = row.means[measure]
                line += [mean.map { text($0.n) } ?? "", mean.map { text($0.mean) } ?? ""]
            }
            lines.append(line)
        }
        return lines.map(CSV.line).joined()
    }

    func text(_ figure: Figure) -> String {
        switch figure {
        case .count(let n): return String(n)
        case .decimal(let text): return text
        case .suppressed: return suppressedLabel
        }
    }
}
