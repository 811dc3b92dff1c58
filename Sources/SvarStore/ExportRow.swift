import Foundation
import SvarInstruments

/// One result as an export reads it. Built here from the stored values (answers JSON, score columns) rather than
/// by each engine, so the same stored results give the same rows — and byte-identical files — on every engine.
public struct ExportRow: Sendable {
    public var responseId, pseudonym, unit, milestone, instrument, version, language, respondent: String
    public var submitted: Date
    public var answers: [String: String]
    public var scores: [String: JSONValue] = [:]
    public var algorithm: String?
    public var valueSet: String?

    /// A row from the `results` columns; `answersJSON` is `{"linkId": code}` as stored (only numeric codes are read).
    public init(
        responseId: String, pseudonym: String, unit: String, milestone: String, instrument: String, version: String,
        language: String, respondent: String, submitted: Date, answersJSON: String
    ) throws {
        var answers: [String: String] = [:]
        if case .object(let members) = try JSONParser.parse(answersJSON) {
            for case (let linkId, .number(let code)) in members { answers[linkId] = code }
        }
        self.responseId = responseId
        self.pseudonym = pseudonym
        self.unit = unit
        self.milestone = milestone
        self.instrument = instrument
        self.version = version
        self.language = language
        self.respondent = respondent
        self.submitted = submitted
        self.answers = answers
    }

    /// Adds one `result_scores` row: exact decimal text, else a flag, else missing. The first algorithm and value
    /// set seen stand for the row (engines read scores ordered by response and key, so "first" is the same).
    public mutating func addScore(key: String, number: String?, flag: Bool?, algorithm: String?, valueSet: String?) {
        scores[key] = number.map(JSONValue.number) ?? flag.map(JSONValue.bool) ?? .null
        self.algorithm = self.algorithm ?? algorithm
        self.valueSet = self.valueSet ?? valueSet
    }
}

/// One file of an export, laid out but not yet written.
public struct ExportFile: Sendable {
    public let name: String
    public let text: String
}

/// The engine-neutral steps around an export's transaction: lay out and check before recording, write after.
extension ExportWriter {
    /// The export folder, owner-only when created.
    public static func makeFolder(_ directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// The record and files for `rows`; a file that exists already stops the export here, before anything is recorded.
    public static func prepare(
        id: String, format: ExportFormat, at: Date, rows: [ExportRow], catalogue: InstrumentCatalogue, only: String?,
        into directory: URL
    ) throws -> (record: ExportRecord, files: [ExportFile]) {
        var record = ExportRecord(id: id, at: at, format: format, rows: rows.count, pseudonyms: Set(rows.map(\.pseudonym)).sorted())
        let files = ExportWriter(record: record, rows: rows, catalogue: catalogue, only: only).files()
        record.files = files.map(\.name)
        for file in files where FileManager.default.fileExists(atPath: directory.appendingPathComponent(file.name).path) {
            throw ExportError.fileExists(directory.appendingPathComponent(file.name).path)
        }
        return (record, files)
    }

    /// Writes the files, never over an existing one. On failure the files already written are removed before the
    /// error is rethrown, so the caller only has its record to take back.
    public static func write(_ files: [ExportFile], into directory: URL) throws {
        var written: [URL] = []
        do {
            for file in files {
                let url = directory.appendingPathComponent(file.name)
                try Data(file.text.utf8).write(to: url, options: .withoutOverwriting)
                written.append(url)
            }
        } catch {
            for url in written { try? FileManager.default.removeItem(at: url) }
            throw error
        }
    }
}
