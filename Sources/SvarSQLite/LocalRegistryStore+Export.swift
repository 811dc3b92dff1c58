import Foundation
import GRDB
import SvarDomain
import SvarInstruments
import SvarStore

extension LocalRegistryStore {
    /// Writes the results (optionally one instrument's) into `directory` with a codebook, and records the export
    /// with its members in the same transaction that reads them, so the record names exactly who is in the files.
    /// The record is committed before the files are written: a crash can leave a record without files, never
    /// files without a record. A file that exists already stops the export before anything is recorded.
    /// (The layout is `ExportWriter`'s, shared with the PostgreSQL engine.)
    public func export(
        _ format: ExportFormat, instrument: String? = nil, catalogue: InstrumentCatalogue, into directory: URL,
        at: Date = Date()
    ) async throws -> ExportRecord {
        try ExportWriter.makeFolder(directory)
        let id = RecordId.make()
        let (record, files) = try await db.write { db -> (ExportRecord, [ExportFile]) in
            let rows = try Self.exportRows(db, instrument: instrument)
            let (record, files) = try ExportWriter.prepare(
                id: id, format: format, at: at, rows: rows, catalogue: catalogue, only: instrument, into: directory)
            try db.execute(
                sql: "INSERT INTO exports (id, at, format, rows) VALUES (?, ?, ?, ?)",
                arguments: [id, at.seconds, format.rawValue, rows.count])
            for pseudonym in record.pseudonyms {
                try db.execute(sql: "INSERT INTO export_members (export_id, pseudonym) VALUES (?, ?)", arguments: [id, pseudonym])
            }
            return (record, files)
        }
        do {
            try ExportWriter.write(files, into: directory)
        } catch {
            // Nothing left outside: the files are gone, take the record back.
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

    /// The results as rows for `ExportWriter`, in the order every engine reads them (instrument, submission time,
    /// response id; scores by response and key).
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
            index[row["response_id"]] = rows.count
            rows.append(
                try ExportRow(
                    responseId: row["response_id"], pseudonym: row["pseudonym"], unit: row["unit"], milestone: row["milestone"],
                    instrument: row["instrument"], version: row["instrument_version"], language: row["language"],
                    respondent: row["respondent"], submitted: Date(seconds: row["submitted_at"]), answersJSON: row["answers"]))
        }
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT s.response_id, s.key, s.number, s.flag, s.algorithm, s.value_set
                FROM result_scores s JOIN results r ON r.response_id = s.response_id WHERE ?1 IS NULL OR r.instrument = ?1
                ORDER BY s.response_id, s.key
                """, arguments: [instrument])
        {
            guard let i = index[row["response_id"]] else { continue }
            rows[i].addScore(
                key: row["key"], number: row["number"], flag: row["flag"], algorithm: row["algorithm"], valueSet: row["value_set"])
        }
        return rows
    }
}
