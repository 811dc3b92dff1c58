import Foundation
import GRDB
import PostgresNIO
import SvarAssets
import SvarDomain
import SvarInstruments
import SvarRegistry
import SvarStore
import SvarTestSupport
import Testing

@testable import SvarPostgres
@testable import SvarSQLite

/// The bundled instruments, read from the source tree (as the forwarding tests do).
let archiveCatalogue: InstrumentCatalogue = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    do {
        return try InstrumentLoader.catalogue(instruments: root.appendingPathComponent("Sources/SvarAssets/instruments"))
    } catch {
        fatalError("the bundled instruments do not load: \(error)")
    }
}()

let archiveT0 = OsloTime.instant(LocalDate(iso: "2026-12-01")!, hour: 9)

/// What the contract cases need of an engine besides `RegistryArchive`: its public reads, and a raw look at its
/// tables (through `@testable`) to check what is really stored.
protocol TestArchive: RegistryArchive {
    func identityNumber(pseudonym: String) async throws -> String?
    func resultCount(pseudonym: String?) async throws -> Int
    func appliedMigrations() async throws -> [String]
    func rowCount(_ table: String) async throws -> Int
    /// Every identity_vault row as stored: pseudonym, system and the sealed bytes.
    func rawVault() async throws -> [(pseudonym: String, system: String, sealed: [UInt8])]
}

extension LocalRegistryStore: TestArchive {
    func rowCount(_ table: String) async throws -> Int {
        try await db.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
    }

    func rawVault() async throws -> [(pseudonym: String, system: String, sealed: [UInt8])] {
        try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT pseudonym, system, sealed FROM identity_vault ORDER BY pseudonym").map {
                ($0["pseudonym"], $0["system"], [UInt8]($0["sealed"] as Data))
            }
        }
    }
}

extension PostgresRegistryStore: TestArchive {
    func rowCount(_ table: String) async throws -> Int {
        try await transaction { try await $0.value(PostgresQuery(unsafeSQL: "SELECT COUNT(*) FROM \(table)"), as: Int.self) ?? 0 }
    }

    func rawVault() async throws -> [(pseudonym: String, system: String, sealed: [UInt8])] {
        try await transaction { tx in
            try await tx.rows("SELECT pseudonym, system, sealed FROM identity_vault ORDER BY pseudonym").map {
                (try $0.decode("pseudonym"), try $0.decode("system"), try $0.bytes("sealed"))
            }
        }
    }
}

/// The registry store's engines: PostgreSQL joins when `SVAR_TEST_POSTGRES_URL` names a database.
enum ArchiveEngine: String, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }

    static var allCases: [ArchiveEngine] { PostgresTestDatabase.url == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// An empty store: a new file, or a new schema on the shared test pool (each test its own).
    func make() async throws -> any TestArchive {
        switch self {
        case .sqlite:
            let path = ScratchFolder.file("registry").path
            return try LocalRegistryStore(path: path, sealingKey: vault.registryStoreKey)
        case .postgres:
            let base = try await PostgresTestDatabase.emptyStore()
            return try await base.registryStore(schema: uniqueSchema("r"), sealingKey: vault.registryStoreKey)
        }
    }
}

func uniqueSchema(_ prefix: String) -> String {
    prefix + "_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
}

func temporaryFolder() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("svar-export-\(UUID().uuidString)")
}

let registryOID = "urn:oid:2.16.578.1.12.4.1.4.1"

/// A submission as the forwarding pass makes it, scored by the real instrument. `answers` nil: each item's
/// first code or lowest value; `instrument` not in the catalogue: a result of an instrument since withdrawn.
func archiveSubmission(
    _ responseId: String, pseudonym: String, instrument: String, number: String? = "01914796756", answers: [String: Int]? = nil,
    language: String = "nb", respondent: String = "patient", unit: String = "4208", at: Date = archiveT0
) throws -> RegistrySubmission {
    var json = JSONValue.object((answers ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })
    var scores: [StoredScore] = [
        StoredScore(key: "total", number: "12.5", flag: nil, itemsAnswered: 2, itemsInScale: 2, algorithm: "old@1", valueSet: nil)
    ]
    var version = "0.9"
    if let definition = archiveCatalogue.instrument(instrument) {
        if answers == nil {
            var first: [String: Int] = [:]
            for question in definition.questionnaire.questions {
                if let code = question.answerOption?.first.flatMap({ Int($0.valueCoding.code) }) {
                    first[question.linkId] = code
                } else if question.type == .integer {
                    first[question.linkId] = question.minValue ?? 0
                }
            }
            json = .object(first.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })
        }
        scores = try definition.score(try definition.checkAnswers(json)).stored
        version = definition.questionnaire.version
    }
    let response = ForwardedResponse(
        responseId: responseId, patientId: "patient-\(pseudonym)", invitationId: "inv-\(responseId)", courseId: "course-\(pseudonym)",
        unit: unit, milestone: "baseline", instrument: instrument, instrumentVersion: version, language: language,
        respondent: respondent, submittedAt: at, answersJSON: json.serialized, scores: scores)
    return RegistrySubmission(
        response: response, pseudonym: pseudonym, subject: .pseudonym(pseudonym),
        identity: number.map { RegistrySubject(system: registryOID, value: $0, isIdentityNumber: true) },
        bundle: "{\"resourceType\":\"Bundle\"}",
        idempotencyKey: "forward-\(responseId)")
}

/// Submits and expects each to be stored.
func submitAll(_ archive: any RegistryArchive, _ submissions: [RegistrySubmission]) async {
    for submission in submissions {
        let outcome = await archive.submit(submission)
        #expect(outcome == RegistryStoreRules.stored(submission.response), "\(submission.response.responseId)")
    }
}

/// The files of an export as bytes by name, with the export's id (only in codebook.json) written as `<id>`, so two
/// exports of the same rows compare equal.
func exportedBytes(_ record: ExportRecord, in folder: URL) throws -> [String: Data] {
    var files: [String: Data] = [:]
    for name in record.files {
        let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
        files[name] = Data(text.replacingOccurrences(of: record.id, with: "<id>").utf8)
    }
    return files
}
