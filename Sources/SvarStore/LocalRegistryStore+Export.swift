import Foundation
import GRDB
import SvarDomain
import SvarInstruments

public enum ExportFormat: String, Sendable, CaseIterable {
    case csv, ndjson
}

/// One export as recorded in the registry store: a deletion later reports it as data already used (§ 3-3).
public struct ExportRecord: Sendable, Equatable {
    public var id: String
    public var at: Date
    public var format: ExportFormat
    public var rows: Int
    public var pseudonyms: [String]
    /// The files written, in the order written (not stored: empty when read back with `exports()`).
    public var files: [String] = []
}

public enum ExportError: Error, Sendable, Equatable, CustomStringConvertible {
    case fileExists(String)

    public var description: String {
        switch self {
        case let .fileExists(path): return "\(path) exists already; an export never overwrites a file"
        }
    }
}

/// RFC 4180: comma-separated, CRLF line ends, a field quoted when it holds a comma, quote or line break.
public enum CSV {
    public static func line(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }

    static func field(_ text: String) -> String {
        // Scalars, not Characters: "\r\n" is one Character and would slip past a Character test.
        guard text.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

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
    public func export(_ format: ExportFormat, instrument: String? = nil, catalogue: InstrumentCatalogue, into directory: URL,
                       at: Date = Date()) async throws -> ExportRecord {
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
            try db.execute(sql: "INSERT INTO exports (id, at, format, rows) VALUES (?, ?, ?, ?)",
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
                return ExportRecord(id: id, at: Date(seconds: row["at"]), format: ExportFormat(rawValue: row["format"]) ?? .csv, rows: row["rows"],
                                    pseudonyms: try String.fetchAll(db, sql: "SELECT pseudonym FROM export_members WHERE export_id = ? ORDER BY pseudonym",
                                                                    arguments: [id]))
            }
        }
    }

    static func exportRows(_ db: Database, instrument: String?) throws -> [ExportRow] {
        var rows: [ExportRow] = []
        var index: [String: Int] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT response_id, pseudonym, unit, milestone, instrument, instrument_version, language, respondent, submitted_at, answers
            FROM results WHERE ?1 IS NULL OR instrument = ?1 ORDER BY instrument, submitted_at, response_id
            """, arguments: [instrument]) {
            var answers: [String: String] = [:]
            if case let .object(members) = try JSONParser.parse(row["answers"] as String) {
                for case let (linkId, .number(code)) in members { answers[linkId] = code }
            }
            index[row["response_id"]] = rows.count
            rows.append(ExportRow(responseId: row["response_id"], pseudonym: row["pseudonym"], unit: row["unit"], milestone: row["milestone"],
                                  instrument: row["instrument"], version: row["instrument_version"], language: row["language"],
                                  respondent: row["respondent"], submitted: Date(seconds: row["submitted_at"]), answers: answers))
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT s.response_id, s.key, s.number, s.flag, s.algorithm, s.value_set
            FROM result_scores s JOIN results r ON r.response_id = s.response_id WHERE ?1 IS NULL OR r.instrument = ?1
            """, arguments: [instrument]) {
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
        var file: String { "results-\(String(id.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "." ? Character($0) : "_" })).csv" }
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
            return Layout(id: id, instrument: instrument,
                          items: items + Set(mine.flatMap(\.answers.keys)).subtracting(items).sorted(),
                          scores: scores + Set(mine.flatMap(\.scores.keys)).subtracting(scores).sorted(), rows: mine)
        }
    }

    func files() -> [ExportFile] {
        let layouts = self.layouts
        switch record.format {
        case .csv:
            return layouts.map { ExportFile(name: $0.file, text: csv($0)) }
                + [ExportFile(name: "codebook.json", text: codebook(layouts).serialized + "\n"),
                   ExportFile(name: "codebook.csv", text: codebookCSV(layouts))]
        case .ndjson:
            let lines = layouts.flatMap { layout in layout.rows.map { ndjson($0, layout).serialized + "\n" } }
            return [ExportFile(name: "results.ndjson", text: lines.joined()),
                    ExportFile(name: "codebook.json", text: codebook(layouts).serialized + "\n")]
        }
    }

    func common(_ row: ExportRow) -> [String] {
        [row.pseudonym, row.responseId, row.unit, row.milestone, row.version, OsloTime.iso8601(row.submitted), row.language, row.respondent]
    }

    func csv(_ layout: Layout) -> String {
        var out = CSV.line(Self.leading + layout.items.map { "item_\($0)" } + layout.scores.map { "score_\($0)" } + Self.trailing)
        for row in layout.rows {
            let scores = layout.scores.map { key -> String in
                switch row.scores[key] {
                case let .number(text)?: return text
                case let .bool(flag)?: return flag ? "true" : "false"
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

/// One variable as the codebook describes it; `name` is as in the files of this export's format.
struct CodebookVariable {
    var name: String
    var label: String?
    var type: String
    var codes: [(code: String, label: String?)] = []
    var min: Int?
    var max: Int?
    var algorithm: String?
    /// The value sets used, for an EQ-5D index (nil for every other variable).
    var valueSets: [(id: String, set: ValueSet?)]?
}

extension ExportWriter {
    func commonVariables() -> [CodebookVariable] {
        let languages = Language.allCases.map { (code: $0.rawValue, label: Optional(["nb": "bokmål", "nn": "nynorsk", "en": "engelsk"][$0.rawValue] ?? "")) }
        let seen = Set(rows.map(\.language)).subtracting(languages.map(\.code)).sorted().map { (code: $0, label: String?.none) }
        var variables = [
            CodebookVariable(name: "pseudonym", label: "Registerets pseudonym for pasienten (nøkkel til registerets identitetshvelv)", type: "string"),
            CodebookVariable(name: "response_id", label: "Svarets id: ett utfylt skjema", type: "string"),
            CodebookVariable(name: "unit", label: "RESH-id for enheten som hadde ansvaret for forløpet da svaret kom inn", type: "string"),
            CodebookVariable(name: "milestone", label: "Måletidspunkt i forløpet (baseline, evaluation, end, followUp1y)", type: "string"),
            CodebookVariable(name: "instrument_version", label: "Skjemaversjonen pasienten svarte på", type: "string"),
            CodebookVariable(name: "submitted", label: "Tidspunktet svaret ble sendt inn (ISO 8601, norsk tid)", type: "datetime"),
            CodebookVariable(name: "language", label: "Språket skjemaet ble besvart på", type: "code", codes: languages + seen),
            CodebookVariable(name: "respondent", label: "Hvem som svarte (patient: pasienten selv)", type: "string"),
            CodebookVariable(name: "algorithm", label: "Skåringsalgoritmen som ga skårene (id@versjon)", type: "string"),
            CodebookVariable(name: "value_set", label: "EQ-5D-verdisettet indeksen er regnet med (tomt for andre skjema)", type: "string"),
        ]
        if record.format == .ndjson { variables.insert(CodebookVariable(name: "instrument", label: "Skjemaets id", type: "string"), at: 2) }
        return variables
    }

    func variables(_ layout: Layout) -> (items: [CodebookVariable], scores: [CodebookVariable]) {
        let csv = record.format == .csv
        let texts = layout.instrument?.texts[.nb]?.items ?? [:]
        let items = layout.items.map { linkId -> CodebookVariable in
            let question = layout.instrument?.questionnaire.item(linkId: linkId)
            let name = csv ? "item_\(linkId)" : "answers.\(linkId)"
            let defined = (question?.optionCodes ?? []).map { (code: $0, label: texts[linkId]?.options?[$0]) }
            let seen = Set(layout.rows.compactMap { $0.answers[linkId] }).subtracting(defined.map(\.code))
            let type = question?.type == .choice ? "code" : "integer"
            return CodebookVariable(name: name, label: texts[linkId]?.text, type: type,
                                    codes: defined + (type == "code" ? seen.sorted().map { (code: $0, label: String?.none) } : []),
                                    min: question?.minValue, max: question?.maxValue)
        }
        let known = Dictionary(layout.instrument?.scoreVariables.map { ($0.key, $0) } ?? [], uniquingKeysWith: { a, _ in a })
        let usedSets = Set(layout.rows.compactMap(\.valueSet)).sorted()
        let scores = layout.scores.map { key -> CodebookVariable in
            let variable = known[key]
            var out = CodebookVariable(name: csv ? "score_\(key)" : "scores.\(key)", label: variable?.label, type: variable?.type ?? "decimal",
                                       min: variable?.min, max: variable?.max,
                                       algorithm: layout.instrument?.scoringAlgorithm ?? layout.rows.first?.algorithm)
            if key == "index", !usedSets.isEmpty || layout.instrument?.valueSets.isEmpty == false { out.valueSets = usedSets.map { id in (id, layout.instrument?.valueSets.first { $0.id == id }) } }
            return out
        }
        return (items, scores)
    }

    func codebook(_ layouts: [Layout]) -> JSONValue {
        func describe(_ v: CodebookVariable) -> JSONValue {
            var members: [(String, JSONValue)] = [("name", .string(v.name)), ("label", v.label.map(JSONValue.string) ?? .null), ("type", .string(v.type))]
            if !v.codes.isEmpty {
                members.append(("codes", .array(v.codes.map { .object([("code", .string($0.code)), ("label", $0.label.map(JSONValue.string) ?? .null)]) })))
            }
            if let min = v.min { members.append(("min", .int(min))) }
            if let max = v.max { members.append(("max", .int(max))) }
            if let algorithm = v.algorithm { members.append(("algorithm", .string(algorithm))) }
            if let valueSets = v.valueSets {
                members.append(("valueSets", .array(valueSets.map { id, set in .object([
                    ("id", .string(id)), ("name", set.map { .string($0.name) } ?? .null),
                    ("doi", set?.doi.map(JSONValue.string) ?? .null), ("reference", set.map { .string($0.citation) } ?? .null),
                ]) })))
            }
            return .object(members)
        }
        return .object([
            ("export", .object([
                ("id", .string(record.id)), ("at", .string(OsloTime.iso8601(record.at))), ("format", .string(record.format.rawValue)),
                ("rows", .int(record.rows)),
                ("files", .array((record.format == .csv ? layouts.map(\.file) : ["results.ndjson"]).map(JSONValue.string))),
            ])),
            ("missing", .string("An empty cell (CSV) or null (NDJSON): the item was not answered, or the score could not be computed.")),
            ("common", .array(commonVariables().map(describe))),
            ("instruments", .array(layouts.map { layout in
                let (items, scores) = variables(layout)
                let q = layout.instrument?.questionnaire
                return .object([
                    ("id", .string(layout.id)), ("version", q.map { .string($0.version) } ?? .null),
                    ("versionsInExport", .array(Set(layout.rows.map(\.version)).sorted().map(JSONValue.string))),
                    ("title", (layout.instrument?.texts[.nb]?.title ?? q?.title).map(JSONValue.string) ?? .null),
                    ("questionnaire", q.map { .string($0.url) } ?? .null),
                    ("file", .string(record.format == .csv ? layout.file : "results.ndjson")), ("rows", .int(layout.rows.count)),
                    ("variables", .array(items.map(describe))), ("scores", .array(scores.map(describe))),
                ])
            })),
        ])
    }

    /// The same codebook, long: one line per variable, per code and per value set.
    func codebookCSV(_ layouts: [Layout]) -> String {
        var out = CSV.line(["instrument", "instrument_version", "instrument_title", "questionnaire_url", "variable", "label", "type", "code",
                            "code_label", "min", "max", "algorithm", "value_set", "value_set_name", "value_set_reference"])
        func lines(_ instrument: [String], _ v: CodebookVariable) {
            let head = instrument + [v.name, v.label ?? "", v.type]
            let tail = [v.min.map(String.init) ?? "", v.max.map(String.init) ?? "", v.algorithm ?? ""]
            if !v.codes.isEmpty {
                for code in v.codes { out += CSV.line(head + [code.code, code.label ?? ""] + tail + ["", "", ""]) }
            } else if let valueSets = v.valueSets, !valueSets.isEmpty {
                for (id, set) in valueSets { out += CSV.line(head + ["", ""] + tail + [id, set?.name ?? "", set?.citation ?? ""]) }
            } else {
                out += CSV.line(head + ["", ""] + tail + ["", "", ""])
            }
        }
        for v in commonVariables() { lines(["", "", "", ""], v) }
        for layout in layouts {
            let q = layout.instrument?.questionnaire
            let instrument = [layout.id, q?.version ?? "", layout.instrument?.texts[.nb]?.title ?? q?.title ?? "", q?.url ?? ""]
            let (items, scores) = variables(layout)
            for v in items + scores { lines(instrument, v) }
        }
        return out
    }
}

extension Instrument {
    /// The algorithm id recorded with every score of this instrument (`rand36@1.0`).
    var scoringAlgorithm: String {
        switch scoring {
        case let .scaleMeans(s): return s.algorithm
        case let .eq5d(s): return s.algorithm
        case let .indicators(s): return s.algorithm
        }
    }

    /// Every score key in the order scoring produces them, with its type and a bokmål description for the codebook.
    var scoreVariables: [(key: String, type: String, label: String, min: Int?, max: Int?)] {
        switch scoring {
        case let .scaleMeans(s):
            return s.scales.map { ($0.id, "decimal", "Skala: gjennomsnitt av omkodede svar (0–100) på spørsmål \($0.items.joined(separator: ", "))", 0, 100) }
        case let .eq5d(s):
            return [("index", "decimal", "EQ-5D-indeks for helsetilstanden, etter verdisettet i value_set", nil, nil),
                    ("vas", "integer", "EQ VAS slik pasienten oppga den (spørsmål \(s.vasItem))", 0, 100)]
                + s.dimensions.map { ($0, "integer", "Nivå for dimensjonen \($0)", s.levels.lowerBound, s.levels.upperBound) }
        case let .indicators(s):
            return s.indicators.map { indicator in
                let codes = { (c: Set<Int>) in c.sorted().map(String.init).joined(separator: ", ") }
                switch indicator.rule {
                case let .value(item):
                    let q = questionnaire.item(linkId: item)
                    return (indicator.id, "integer", "Svaret på spørsmål \(item)", q?.minValue ?? q?.optionCodes.compactMap { Int($0) }.min(),
                            q?.maxValue ?? q?.optionCodes.compactMap { Int($0) }.max())
                case let .codeIn(item, c):
                    return (indicator.id, "boolean", "Sann når svaret på \(item) er \(codes(c))", nil, nil)
                case let .allIn(items, c):
                    return (indicator.id, "boolean", "Sann når \(items.joined(separator: ", ")) alle er besvart med \(codes(c))", nil, nil)
                case let .anyIn(items, c):
                    return (indicator.id, "boolean", "Sann når minst ett av \(items.joined(separator: ", ")) er besvart med \(codes(c))", nil, nil)
                }
            }
        }
    }
}
