import Foundation
import GRDB
import SvarDomain
import SvarInstruments
import SvarStore

/// One result as an export reads it.
struct ExportRow: Sendable {
    var responseId, pseudonym, unit, milestone, instrument, version, language, respondent: String
    var submitted: Date
    var answers: [String: String]
    var scores: [String: JSONValue] = [:]
    var algorithm: String?
    var valueSet: String?
}

extension LocalRegistryStore {
    /// Writes the results (optionally one instrument's) into `directory` with a codebook, and records the export
    /// with its members in the same transaction that reads them, so the record names exactly who is in the files.
    /// The record is committed before the files are written: a crash can leave a record without files, never
    /// files without a record. A file that exists already stops the export before anything is recorded.
    public func export(
        _ format: ExportFormat, instrument: String? = nil, catalogue: InstrumentCatalogue, into directory: URL,
        at: Date = Date()
    ) async throws -> ExportRecord {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let id = UUID().uuidString.lowercased()
        let (record, files) = try await db.write { db -> (ExportRecord, [ExportFile]) in
            let rows = try Self.exportRows(db, instrument: instrument)
            var record = ExportRecord(id: id, at: at, format: format, rows: rows.count, pseudonyms: Set(rows.map(\.pseudonym)).sorted())
            let files = ExportWriter(record: record, rows: rows, catalogue: catalogue, only: instrument).files()
            record.files = files.map(\.name)
            for file in files where FileManager.default.fileExists(atPath: directory.appendingPathComponent(file.name).path) {
                throw ExportError.fileExists(directory.appendingPathComponent(file.name).path)
            }
            try db.execute(
                sql: "INSERT INTO exports (id, at, format, rows) VALUES (?, ?, ?, ?)",
                arguments: [id, at.seconds, format.rawValue, rows.count])
            for pseudonym in record.pseudonyms {
                try db.execute(sql: "INSERT INTO export_members (export_id, pseudonym) VALUES (?, ?)", arguments: [id, pseudonym])
            }
            return (record, files)
        }
        var written: [URL] = []
        do {
            for file in files {
                let url = directory.appendingPathComponent(file.name)
                try Data(file.text.utf8).write(to: url, options: .withoutOverwriting)
                written.append(url)
            }
        } catch {
            // Nothing left outside: take the files and the record back.
            for url in written { try? FileManager.default.removeItem(at: url) }
            try? await db.write { db in
                try db.execute(sql: "DELETE FROM export_members WHERE export_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM exports WHERE id = ?", arguments: [id])
            }
            throw error
        }
        return record
    }

    /// Every recorded export with its members, oldest first.
    public func exports() async throws -> [ExportRecord] {
        try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT id, at, format, rows FROM exports ORDER BY at, id").map { row in
                let id: String = row["id"]
                return ExportRecord(
                    id: id, at: Date(seconds: row["at"]), format: try row.strict("format", in: "exports"), rows: row["rows"],
                    pseudonyms: try String.fetchAll(
                        db, sql: "SELECT pseudonym FROM export_members WHERE export_id = ? ORDER BY pseudonym",
                        arguments: [id]))
            }
        }
    }

    static func exportRows(_ db: Database, instrument: String?) throws -> [ExportRow] {
        var rows: [ExportRow] = []
        var index: [String: Int] = [:]
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT response_id, pseudonym, unit, milestone, instrument, instrument_version, language, respondent, submitted_at, answers
                FROM results WHERE ?1 IS NULL OR instrument = ?1 ORDER BY instrument, submitted_at, response_id
                """, arguments: [instrument])
        {
            var answers: [String: String] = [:]
            if case .object(let members) = try JSONParser.parse(row["answers"] as String) {
                for case (let linkId, .number(let code)) in members { answers[linkId] = code }
            }
            index[row["response_id"]] = rows.count
            rows.append(
                ExportRow(
                    responseId: row["response_id"], pseudonym: row["pseudonym"], unit: row["unit"], milestone: row["milestone"],
                    instrument: row["instrument"], version: row["instrument_version"], language: row["language"],
                    respondent: row["respondent"], submitted: Date(seconds: row["submitted_at"]), answers: answers))
        }
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT s.response_id, s.key, s.number, s.flag, s.algorithm, s.value_set
                FROM result_scores s JOIN results r ON r.response_id = s.response_id WHERE ?1 IS NULL OR r.instrument = ?1
                """, arguments: [instrument])
        {
            guard let i = index[row["response_id"]] else { continue }
            let number: String? = row["number"]
            let flag: Bool? = row["flag"]
            rows[i].scores[row["key"]] = number.map(JSONValue.number) ?? flag.map(JSONValue.bool) ?? .null
            rows[i].algorithm = rows[i].algorithm ?? row["algorithm"]
            rows[i].valueSet = rows[i].valueSet ?? row["value_set"]
        }
        return rows
    }
}

struct ExportFile: Sendable {
    let name: String
    let text: String
}

/// Lays the rows out as files: the columns of each instrument come from its current definition, followed by any
/// item or score the data hold that the definition no longer has (an older version), so nothing read is dropped.
struct ExportWriter {
    let record: ExportRecord
    let rows: [ExportRow]
    let catalogue: InstrumentCatalogue
    let only: String?

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

    func files() -> [ExportFile] {
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
