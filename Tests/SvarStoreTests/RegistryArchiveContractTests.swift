import Foundation
import SvarDomain
import SvarInstruments
import SvarRegistry
import SvarStore
import SvarTestSupport
import Testing

/// The local registry store's guarantees, the same cases on every engine (`ArchiveEngine`): SQLite's
/// `LocalRegistryStore` always, `PostgresRegistryStore` when a test database is set.
@Suite struct RegistryArchiveContractTests {
    @Test(arguments: ArchiveEngine.allCases)
    func submittingStoresTheResultsWithTheirScores(_ engine: ArchiveEngine) async throws {
        let archive = try await engine.make()
        #expect(try await archive.appliedMigrations() == ["2026-12-01-01-registry"])
        let submissions = [
            try archiveSubmission("r-1", pseudonym: "p-1", instrument: "rand36"),
            try archiveSubmission("r-2", pseudonym: "p-1", instrument: "eq5d-5l"),
            try archiveSubmission("r-3", pseudonym: "p-2", instrument: "kvarus-followup"),
        ]
        await submitAll(archive, submissions)
        #expect(try await archive.resultCount(pseudonym: nil) == 3)
        #expect(try await archive.resultCount(pseudonym: "p-1") == 2)
        #expect(try await archive.resultCount(pseudonym: "p-3") == 0)
        #expect(try await archive.rowCount("result_scores") == submissions.map(\.response.scores.count).reduce(0, +))
        #expect(submissions.allSatisfy { !$0.response.scores.isEmpty })
        #expect(archive.identityUse == .separateVault)
        #expect(archive.recipient.hasPrefix("local registry store ("))
    }

    @Test(arguments: ArchiveEngine.allCases)
    func aSecondSubmissionOfAResponseIsAlreadyHeldAndChangesNothing(_ engine: ArchiveEngine) async throws {
        let archive = try await engine.make()
        let submission = try archiveSubmission("r-1", pseudonym: "p-1", instrument: "eq5d-5l")
        await submitAll(archive, [submission])
        var again = submission
        again.response.scores = []
        again.identity = RegistrySubject(system: registryOID, value: "02838897382", isIdentityNumber: true)
        #expect(await archive.submit(again) == .accepted(detail: "already held: response r-1"))
        #expect(await archive.submit(submission) == .accepted(detail: "already held: response r-1"))
        #expect(try await archive.resultCount(pseudonym: nil) == 1)
        #expect(try await archive.rowCount("result_scores") == submission.response.scores.count)
        #expect(try await archive.identityNumber(pseudonym: "p-1") == "01914796756", "the first identity stays")
    }

    @Test(arguments: ArchiveEngine.allCases)
    func theIdentityIsSealedApartAndOpensOnlyForItsPseudonym(_ engine: ArchiveEngine) async throws {
        let archive = try await engine.make()
        await submitAll(
            archive,
            [
                try archiveSubmission("r-1", pseudonym: "p-1", instrument: "eq5d-5l", number: "01914796756"),
                try archiveSubmission("r-2", pseudonym: "p-2", instrument: "eq5d-5l", number: nil),
            ])
        let raw = try await archive.rawVault()
        #expect(raw.map(\.pseudonym) == ["p-1"], "no number, no vault entry")
        let entry = try #require(raw.first)
        #expect(entry.system == registryOID)
        #expect(!Data(entry.sealed).contains(Data("01914796756".utf8)), "the table holds no plaintext number")
        #expect(entry.sealed.count == 12 + 11 + 16, "AES-GCM combined: nonce, ciphertext, tag")
        #expect(try RegistryStoreRules.open(Data(entry.sealed), pseudonym: "p-1", key: vault.registryStoreKey) == "01914796756")
        #expect(throws: (any Error).self) { try RegistryStoreRules.open(Data(entry.sealed), pseudonym: "p-2", key: vault.registryStoreKey) }
        #expect(try await archive.identityNumber(pseudonym: "p-1") == "01914796756")
        #expect(try await archive.identityNumber(pseudonym: "p-2") == nil)
        #expect(try await archive.rowCount("results") == 2)
    }

    @Test(arguments: ArchiveEngine.allCases)
    func erasingRemovesResultsAndIdentityButReportsExportedDataAsKept(_ engine: ArchiveEngine) async throws {
        let archive = try await engine.make()
        let other = try archiveSubmission("r-3", pseudonym: "p-2", instrument: "eq5d-5l", number: "02838897382")
        await submitAll(
            archive,
            [
                try archiveSubmission("r-1", pseudonym: "p-1", instrument: "rand36"),
                try archiveSubmission("r-2", pseudonym: "p-1", instrument: "eq5d-5l"), other,
            ])
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let export = try await archive.export(.ndjson, instrument: nil, catalogue: archiveCatalogue, into: folder, at: archiveT0 + 60)
        let report = try await archive.erase(pseudonym: "p-1", at: archiveT0 + 120)
        #expect(
            report.erased == ["local registry store: 2 result(s) with their scores", "local registry store: identity (1 sealed entry)"])
        #expect(report.kept == [RegistryStoreRules.keptExport(id: export.id, format: "ndjson", at: archiveT0 + 60)])
        #expect(try await archive.resultCount(pseudonym: "p-1") == 0)
        #expect(try await archive.identityNumber(pseudonym: "p-1") == nil)
        #expect(try await archive.rowCount("result_scores") == other.response.scores.count, "only the other patient's scores")
        #expect(try await archive.resultCount(pseudonym: "p-2") == 1)
        #expect(try await archive.identityNumber(pseudonym: "p-2") == "02838897382")
        #expect(try await archive.rowCount("erasures") == 1)
        // A late retry for the erased patient is refused for good; erasing again reports nothing left.
        let late = try archiveSubmission("r-4", pseudonym: "p-1", instrument: "eq5d-5l")
        #expect(await archive.submit(late) == RegistryStoreRules.erasedPatient)
        #expect(try await archive.resultCount(pseudonym: "p-1") == 0)
        let again = try await archive.erase(pseudonym: "p-1", at: archiveT0 + 180)
        #expect(again.erased == RegistryStoreRules.erased(results: 0, identities: 0) && again.kept == report.kept)
        #expect(try await archive.rowCount("erasures") == 1)
    }

    @Test(arguments: ArchiveEngine.allCases)
    func exportsListTheirMembersOldestFirst(_ engine: ArchiveEngine) async throws {
        let archive = try await engine.make()
        await submitAll(
            archive,
            [
                try archiveSubmission("r-1", pseudonym: "p-1", instrument: "rand36"),
                try archiveSubmission("r-2", pseudonym: "P-2", instrument: "eq5d-5l"),
                try archiveSubmission("r-3", pseudonym: "p-1", instrument: "eq5d-5l"),
            ])
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let second = try await archive.export(
            .csv, instrument: "eq5d-5l", catalogue: archiveCatalogue, into: folder.appendingPathComponent("b"), at: archiveT0 + 120)
        let first = try await archive.export(
            .ndjson, instrument: nil, catalogue: archiveCatalogue, into: folder.appendingPathComponent("a"), at: archiveT0 + 60)
        #expect(first.pseudonyms == ["P-2", "p-1"] && first.rows == 3 && first.files == ["results.ndjson", "codebook.json"])
        #expect(second.pseudonyms == ["P-2", "p-1"] && second.rows == 2)
        #expect(second.files == ["results-eq5d-5l.csv", "codebook.json", "codebook.csv"])
        let listed = try await archive.exports()
        #expect(listed.map(\.id) == [first.id, second.id])
        #expect(
            listed.map(\.format) == [.ndjson, .csv] && listed.map(\.rows) == [3, 2]
                && listed.map(\.at) == [archiveT0 + 60, archiveT0 + 120])
        #expect(listed.map(\.pseudonyms) == [["P-2", "p-1"], ["P-2", "p-1"]])
        #expect(listed.allSatisfy { $0.files.isEmpty }, "files are not stored")
    }

    @Test(arguments: ArchiveEngine.allCases)
    func anExportNeverOverwritesAFileAndThenLeavesNoRecord(_ engine: ArchiveEngine) async throws {
        let archive = try await engine.make()
        await submitAll(archive, [try archiveSubmission("r-1", pseudonym: "p-1", instrument: "eq5d-5l")])
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let existing = folder.appendingPathComponent("codebook.json")
        try Data("mine".utf8).write(to: existing)
        await #expect(throws: ExportError.fileExists(existing.path)) {
            try await archive.export(.ndjson, instrument: nil, catalogue: archiveCatalogue, into: folder, at: archiveT0)
        }
        #expect(try String(contentsOf: existing, encoding: .utf8) == "mine")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["codebook.json"], "nothing else written")
        #expect(try await archive.exports().isEmpty)
        #expect(try await archive.rowCount("export_members") == 0)
        // An erasure afterwards has no export to report.
        #expect(try await archive.erase(pseudonym: "p-1", at: archiveT0 + 60).kept.isEmpty)
    }

    @Test(arguments: ArchiveEngine.allCases)
    func anExportWritesEveryResultWithACodebook(_ engine: ArchiveEngine) async throws {
        let archive = try await engine.make()
        await submitAll(archive, try mixedSubmissions())
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let csv = try await archive.export(
            .csv, instrument: nil, catalogue: archiveCatalogue, into: folder.appendingPathComponent("csv"), at: archiveT0)
        #expect(
            csv.files == [
                "results-eq5d-5l.csv", "results-kvarus-followup.csv", "results-legacy_x.csv", "results-rand36.csv", "codebook.json",
                "codebook.csv",
            ])
        let rand36 = try String(contentsOf: folder.appendingPathComponent("csv/results-rand36.csv"), encoding: .utf8)
        #expect(rand36.hasPrefix("pseudonym,response_id,unit,milestone,instrument_version,submitted,language,respondent,item_"))
        #expect(rand36.components(separatedBy: "\r\n").count == 1 + 3 + 1, "header, three rows, and the empty end")
        let ndjson = try await archive.export(
            .ndjson, instrument: nil, catalogue: archiveCatalogue, into: folder.appendingPathComponent("nd"), at: archiveT0)
        let lines = try String(contentsOf: folder.appendingPathComponent("nd/results.ndjson"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == ndjson.rows && ndjson.rows == csv.rows)
        let codebook = try JSONParser.parse(try String(contentsOf: folder.appendingPathComponent("nd/codebook.json"), encoding: .utf8))
        guard case .array(let instruments)? = codebook["instruments"] else {
            Issue.record("the codebook lists its instruments")
            return
        }
        #expect(instruments.count == 4)
    }
}

/// Results that exercise the layout: several instruments and an unknown (withdrawn) one, ids and pseudonyms whose
/// order differs between bytewise and locale collation, a language outside the list, text that CSV must quote,
/// unanswered items and equal submission times.
func mixedSubmissions() throws -> [RegistrySubmission] {
    [
        try archiveSubmission("b-2", pseudonym: "p-1", instrument: "rand36", at: archiveT0),
        try archiveSubmission("_c-3", pseudonym: "P-2", instrument: "rand36", language: "se", at: archiveT0),
        try archiveSubmission("A-1", pseudonym: "p-1", instrument: "rand36", respondent: "proxy, \"mother\"", at: archiveT0),
        try archiveSubmission("e-1", pseudonym: "p-1", instrument: "eq5d-5l", at: archiveT0 + 30),
        try archiveSubmission("e-2", pseudonym: "_p-3", instrument: "eq5d-5l", unit: "42\n08", at: archiveT0 + 20),
        try archiveSubmission("k-1", pseudonym: "P-2", instrument: "kvarus-followup", at: archiveT0 + 40),
        try archiveSubmission("x-1", pseudonym: "p-1", instrument: "legacy/x", answers: ["1": 2, "b": 10], at: archiveT0 + 50),
    ]
}
