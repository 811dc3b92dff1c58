import Foundation
import SvarDomain
import SvarInstruments

/// Lays the rows out as files: the columns of each instrument come from its current definition, followed by any
/// item or score the data hold that the definition no longer has (an older version), so nothing read is dropped.
/// It sees rows, never a database: every engine hands it the same rows and gets the same bytes back.
public struct ExportWriter: Sendable {
    let record: ExportRecord
    let rows: [ExportRow]
    let catalogue: InstrumentCatalogue
    let only: String?

    /// `only`: the instrument asked for, which gets its files (and codebook entry) even when it has no rows.
    public init(record: ExportRecord, rows: [ExportRow], catalogue: InstrumentCatalogue, only: String?) {
        self.record = record
        self.rows = rows
        self.catalogue = catalogue
        self.only = only
    }

    struct Layout {
        let id: String
        let instrument: Instrument?
        let items: [String]
        let scores: [String]
        let rows: [ExportRow]
        var file: String {
            let safe = id.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "." ? Character($0) : "_" }
            return "results-\(String(safe)).csv"
        }
    }

    /// Columns every file has, before the items (`instrument` only in NDJSON: CSV files are per instrument).
    static let leading = ["pseudonym", "response_id", "unit", "milestone", "instrument_version", "submitted", "language", "respondent"]
    static let trailing = ["algorithm", "value_set"]

    var layouts: [Layout] {
        Set(rows.map(\.instrument) + (only.map { [$0] } ?? [])).sorted().map { id in
            let mine = rows.filter { $0.instrument == id }
            let instrument = catalogue.instrument(id)
            let items = instrument?.questionnaire.questions.map(\.linkId) ?? []
            let scores = instrument?.scoreVariables.map(\.key) ?? []
            return Layout(
                id: id, instrument: instrument,
                items: items + Set(mine.flatMap(\.answers.keys)).subtracting(items).sorted(),
                scores: scores + Set(mine.flatMap(\.scores.keys)).subtracting(scores).sorted(), rows: mine)
        }
    }

    /// The files in the order they are written: per-instrument CSV then the codebooks, or NDJSON then its codebook.
    public func files() -> [ExportFile] {
        let layouts = self.layouts
        switch record.format {
        case .csv:
            return layouts.map { ExportFile(name: $0.file, text: csv($0)) }
                + [
                    ExportFile(name: "codebook.json", text: codebook(layouts).serialized + "\n"),
                    ExportFile(name: "codebook.csv", text: codebookCSV(layouts)),
                ]
        case .ndjson:
            let lines = layouts.flatMap { layout in layout.rows.map { ndjson($0, layout).serialized + "\n" } }
            return [
                ExportFile(name: "results.ndjson", text: lines.joined()),
                ExportFile(name: "codebook.json", text: codebook(layouts).serialized + "\n"),
            ]
        }
    }

    func common(_ row: ExportRow) -> [String] {
        [
            row.pseudonym, row.responseId, row.unit, row.milestone, row.version, OsloTime.iso8601(row.submitted), row.language,
            row.respondent,
        ]
    }

    func csv(_ layout: Layout) -> String {
        var out = CSV.line(Self.leading + layout.items.map { "item_\($0)" } + layout.scores.map { "score_\($0)" } + Self.trailing)
        for row in layout.rows {
            let scores = layout.scores.map { key -> String in
                switch row.scores[key] {
                case .number(let text)?: return text
                case .bool(let flag)?: return flag ? "true" : "false"
                default: return ""
                }
            }
            out += CSV.line(common(row) + layout.items.map { row.answers[$0] ?? "" } + scores + [row.algorithm ?? "", row.valueSet ?? ""])
        }
        return out
    }

    func ndjson(_ row: ExportRow, _ layout: Layout) -> JSONValue {
        var members = zip(Self.leading, common(row)).map { ($0, JSONValue.string($1)) }
        members.insert(("instrument", .string(row.instrument)), at: 2)
        members.append(("answers", .object(layout.items.map { ($0, row.answers[$0].map(JSONValue.number) ?? .null) })))
        members.append(("scores", .object(layout.scores.map { ($0, row.scores[$0] ?? .null) })))
        members.append(("algorithm", row.algorithm.map(JSONValue.string) ?? .null))
        members.append(("value_set", row.valueSet.map(JSONValue.string) ?? .null))
        return .object(members)
    }
}
