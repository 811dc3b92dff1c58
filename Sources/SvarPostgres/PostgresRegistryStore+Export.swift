import Foundation
import PostgresNIO
import SvarInstruments
import SvarStore

extension PostgresRegistryStore {
    /// Writes the results (optionally one instrument's) into `directory` with a codebook, as `LocalRegistryStore`
    /// does and with the same bytes (`ExportWriter`): the export and its members are recorded in the transaction that
    /// reads the rows, and committed before the files are written; a file that exists already stops it before
    /// anything is recorded; a file that cannot be written takes the record back.
    public func export(
        _ format: ExportFormat, instrument: String? = nil, catalogue: InstrumentCatalogue, into directory: URL,
        at: Date = Date()
    ) async throws -> ExportRecord {
        try ExportWriter.makeFolder(directory)
        let id = RecordId.make()
        let (record, files) = try await transaction { tx -> (ExportRecord, [ExportFile]) in
            // Submissions and erasures wait while the export reads and records (SHARE conflicts with their row
            // locks), as behind SQLite's single writer: the record names exactly who is in the files, and an
            // erasure that follows sees the export and reports the patient's data as used.
            try await tx.execute("LOCK TABLE results IN SHARE MODE")
            let rows = try await Self.exportRows(tx, instrument: instrument)
            let (record, files) = try ExportWriter.prepare(
                id: id, format: format, at: at, rows: rows, catalogue: catalogue, only: instrument, into: directory)
            try await tx.execute(
                "INSERT INTO exports (id, at, format, rows) VALUES (\(id), \(at.seconds), \(format.rawValue), \(rows.count))")
            try await tx.execute("INSERT INTO export_members (export_id, pseudonym) SELECT \(id), unnest(\(record.pseudonyms)::text[])")
            return (record, files)
        }
        do {
            try ExportWriter.write(files, into: directory)
        } catch {
            // Nothing left outside: the files are gone, take the record back.
            try? await transaction { tx in
                try await tx.execute("DELETE FROM export_members WHERE export_id = \(id)")
                try await tx.execute("DELETE FROM exports WHERE id = \(id)")
            }
            throw error
        }
        return record
    }

    /// Every recorded export with its members, oldest first. A format outside the list is a corrupt row.
    public func exports() async throws -> [ExportRecord] {
        try await transaction { tx in
            var members: [String: [String]] = [:]
            for row in try await tx.rows("SELECT export_id, pseudonym FROM export_members ORDER BY export_id, pseudonym") {
                members[try row.decode("export_id"), default: []].append(try row.decode("pseudonym"))
            }
            return try await tx.rows("SELECT id, at, format, rows FROM exports ORDER BY at, id").map { row in
                let id: String = try row.decode("id")
                return ExportRecord(
                    id: id, at: try row.date("at"), format: try row.strict("format", in: "exports"),
                    rows: try row.decode("rows", as: Int.self),
                    pseudonyms: members[id] ?? [])
            }
        }
    }

    /// The results as rows for `ExportWriter`, in the order `LocalRegistryStore.exportRows` reads them (instrument,
    /// submission time, response id; scores by response and key — bytewise, the columns being `COLLATE "C"`).
    static func exportRows(_ tx: Transaction, instrument: String?) async throws -> [ExportRow] {
        var rows: [ExportRow] = []
        var index: [String: Int] = [:]
        for row in try await tx.rows(
            """
            SELECT response_id, pseudonym, unit, milestone, instrument, instrument_version, language, respondent, submitted_at, answers
            FROM results WHERE \(instrument)::text IS NULL OR instrument = \(instrument) ORDER BY instrument, submitted_at, response_id
            """)
        {
            let responseId: String = try row.decode("response_id")
            index[responseId] = rows.count
            rows.append(
                try ExportRow(
                    responseId: responseId, pseudonym: try row.decode("pseudonym"), unit: try row.decode("unit"),
                    milestone: try row.decode("milestone"), instrument: try row.decode("instrument"),
                    version: try row.decode("instrument_version"), language: try row.decode("language"),
                    respondent: try row.decode("respondent"), submitted: try row.date("submitted_at"),
                    answersJSON: try row.decode("answers")))
        }
        for row in try await tx.rows(
            """
            SELECT s.response_id, s.key, s.number, s.flag, s.algorithm, s.value_set
            FROM result_scores s JOIN results r ON r.response_id = s.response_id
            WHERE \(instrument)::text IS NULL OR r.instrument = \(instrument)
            ORDER BY s.response_id, s.key
            """)
        {
            guard let i = index[try row.decode("response_id", as: String.self)] else { continue }
            rows[i].addScore(
                key: try row.decode("key"), number: try row.decode("number"), flag: try row.decode("flag"),
                algorithm: try row.decode("algorithm"),
                valueSet: try row.decode("value_set"))
        }
        return rows
    }
}
