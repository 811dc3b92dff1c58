import ArgumentParser
import Foundation
import SvarDomain
import SvarServices
import SvarStore

/// Registry staff's export of the local registry store, for analysis elsewhere.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export the local registry store's results as CSV or NDJSON files with a codebook.",
        discussion: """
            csv: results-<instrument>.csv per instrument (RFC 4180, UTF-8, header row), codebook.json and codebook.csv. \
            ndjson: results.ndjson (one response per line) and codebook.json. Both also get paradata.csv (when each step of \
            each invitation was first shown and saved, never what was answered; from Svar's own database, without patients \
            who reserved themselves or asked for deletion) and paradata-codebook.csv. Existing files are never overwritten. \
            Every export is recorded with the patients in it: a later deletion reports their data as already used (§ 3-3). \
            Reads the store at SVAR_REGISTRY_STORE; with SVAR_REGISTRY_URL set the results are at that server, not here.
            """
    )

    @Option(name: .long, help: "csv or ndjson.")
    var format: String

    @Option(name: .long, help: "Folder to write into (created if missing). Default: export-<time> in the working directory.")
    var out: String?

    @Option(name: .long, help: "Only this instrument's results (rand36, eq5d-5l, eq5d-3l, kvarus-followup).")
    var instrument: String?

    func run() async throws {
        guard let exportFormat = ExportFormat(rawValue: format) else { throw fail("--format: '\(format)' is not csv or ndjson") }
        let now = Date()
        let folder = URL(fileURLWithPath: out ?? "export-" + OsloTime.iso8601(now).prefix(19).replacingOccurrences(of: ":", with: ""))
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), !isFolder.boolValue {
            throw fail("--out: \(folder.path) is a file, not a folder")
        }
        let runtime = try await Runtime.load()
        if let instrument, runtime.catalogue.instrument(instrument) == nil {
            throw fail(
                "--instrument: unknown instrument '\(instrument)' (known: "
                    + "\(runtime.catalogue.instruments.map(\.id).joined(separator: ", ")))"
            )
        }
        let forwarding = try await loadForwarding(runtime)
        guard let store = forwarding.localStore else {
            await forwarding.shutdown()
            throw fail(
                "SVAR_REGISTRY_URL: results go to a FHIR registry server, so there is no local registry store to export; export them there")
        }
        let record: ExportRecord
        do {
            record = try await store.export(exportFormat, instrument: instrument, catalogue: runtime.catalogue, into: folder, at: now)
        } catch let error as ExportError {
            throw fail("--out: \(error)")
        } catch {
            throw fail("export failed: \(error)")
        }
        // Paradata: where patients stop (the steps shown and saved), anonymous, beside the results.
        let paradata = ParadataExport(views: try await runtime.store.stepViews(), catalogue: runtime.catalogue)
        for (name, text) in [("paradata.csv", paradata.csv), ("paradata-codebook.csv", ParadataExport.codebookCSV)] {
            let file = folder.appendingPathComponent(name)
            guard !FileManager.default.fileExists(atPath: file.path),
                FileManager.default.createFile(atPath: file.path, contents: Data(text.utf8))
            else { throw fail("--out: cannot write \(file.path) (it exists, or the folder is not writable)") }
        }
        let files = record.files + ["paradata.csv", "paradata-codebook.csv"]
        print(
            "export \(record.id) (\(record.format.rawValue)): \(record.rows) row(s) of \(record.pseudonyms.count) patient(s), "
                + "\(files.count) file(s) in \(folder.path): \(files.joined(separator: ", ")); "
                + "paradata: \(paradata.views.count) step view(s)")
    }
}

/// Anonymous statistics from Svar's own database, for publication (§ 4-3).
struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print anonymous statistics per unit and milestone: invited, answered, response rate and score means.",
        discussion: """
            Invited: invitations that reached the patient (state invited or later); answered: the completed ones; means over \
            the answered responses' numeric scores (an EQ-5D index per value set). § 4-3: counts from 1 to MIN-CELL − 1 are \
            shown as "<MIN-CELL", rates and means resting on fewer than MIN-CELL answered responses are withheld, and no \
            totals are printed, so nothing withheld can be recovered by subtraction. Patients who reserved are left out.
            """
    )

    @Option(name: .long, help: "csv or json.")
    var format = "csv"

    @Option(name: .long, help: "The smallest count shown (at least 3).")
    var minCell = "\(StatisticsReport.defaultMinCell)"

    func run() async throws {
        guard format == "csv" || format == "json" else { throw fail("--format: '\(format)' is not csv or json") }
        guard let cell = Int(minCell), cell >= StatisticsReport.smallestMinCell else {
            throw fail(
                "--min-cell: '\(minCell)' is not a whole number of at least \(StatisticsReport.smallestMinCell) (smaller cells "
                    + "identify patients)"
            )
        }
        let runtime = try await Runtime.load(needsVault: false)
        let report: StatisticsReport
        do {
            report = try StatisticsReport(try await runtime.store.statisticsInput(), minCell: cell)
        } catch {
            throw fail("report failed: \(error)")
        }
        if format == "json" {
            print(report.json.serialized)
        } else {
            print(report.csv, terminator: "")
            printError("svar: \(report.note)")
        }
    }
}
