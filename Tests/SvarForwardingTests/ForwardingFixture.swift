import Foundation
import Logging
import SvarAssets
import SvarDomain
import SvarInstruments
import SvarRegistry
import SvarSQLite
import SvarServices
import SvarStore
import SvarTestSupport

let t0 = OsloTime.instant(LocalDate(iso: "2026-12-01")!, hour: 9)
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let catalogue: InstrumentCatalogue = {
    do {
        return try InstrumentLoader.catalogue(instruments: packageRoot.appendingPathComponent("Sources/SvarAssets/instruments"))
    } catch {
        fatalError("the bundled instruments do not load: \(error)")
    }
}()

/// Answers that every instrument accepts: the first code of each choice, the lowest value of each number.
func firstAnswers(_ instrument: Instrument) -> [String: Int] {
    var answers: [String: Int] = [:]
    for question in instrument.questionnaire.questions {
        if let code = question.answerOption?.first.flatMap({ Int($0.valueCoding.code) }) {
            answers[question.linkId] = code
        } else if question.type == .integer {
            answers[question.linkId] = question.minValue ?? 0
        }
    }
    return answers
}

/// The submission the patient pages would store for these answers: checked and scored by the real instrument.
func submitted(_ instrumentId: String, _ answers: [String: Int]? = nil) throws -> SubmittedResponse {
    guard let instrument = catalogue.instrument(instrumentId) else { throw FixtureError.unknownInstrument(instrumentId) }
    let json = JSONValue.object((answers ?? firstAnswers(instrument)).sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })
    let score = try instrument.score(try instrument.checkAnswers(json))
    return SubmittedResponse(
        instrument: instrumentId, instrumentVersion: instrument.questionnaire.version, answersJSON: json.serialized,
        scores: score.stored)
}

enum FixtureError: Error {
    case unknownInstrument(String)
    case notCreated
}

/// A store with patients who each answered one invitation (RAND-36 and EQ-5D-5L by default), and a vault.
/// The store is of any engine; the local registry store (`localStore()`) is SQLite.
struct ForwardingFixture {
    let store: any TestStore
    let vault: IdentityVault
    var patients: [(patientId: String, invitationId: String, number: String)] = []

    static let numbers = ["01914796756", "02838897382", "41914796073"]

    static func make(
        _ kind: StoreKind = .sqliteMemory, patients count: Int = 1, instruments: [String] = ["rand36", "eq5d-5l"]
    ) async throws -> ForwardingFixture {
        var f = ForwardingFixture(store: try await kind.make(), vault: try IdentityVault(masterKey: Array(repeating: 7, count: 32)))
        try await f.store.createUnit(Unit(resh: "4208", name: "Unit"), actor: "test", at: t0)
        for i in 0..<count {
            let number = numbers[i % numbers.count]
            guard
                case .created(let patientId) = try await Enrolment(store: f.store, vault: f.vault, mode: .test)
                    .enrol(.init(identityNumber: number, email: "p\(i)@example.no", language: "nb"), actor: "test", at: t0)
            else {
                throw FixtureError.notCreated
            }
            let courseId = UUID().uuidString.lowercased()
            try await f.store.createCourse(NewCourse(id: courseId, patientId: patientId, unit: "4208", type: .D01), actor: "test", at: t0)
            let event = PathwayEvent(id: "start-\(courseId)", type: .start, date: OsloTime.date(of: t0), unit: "4208", recordedBy: "test")
            let plan = ScheduleProtocol.Plan(
                milestone: "baseline", instruments: instruments, triggerEventId: event.id,
                dueDate: OsloTime.date(of: t0), opensAt: t0, closesAt: t0 + 21 * 86_400, reminders: [])
            _ = try await f.store.recordEvent(courseId: courseId, event: event, restartingNudges: [], at: t0) { _, _ in [plan] }
            _ = try await f.store.openDue(now: t0, limit: 10)
            let invitationId = try await f.store.course(courseId)?.invitations.first?.id ?? ""
            try await f.store.submit(
                invitationId: invitationId, responses: try instruments.map { try submitted($0) }, respondent: "patient",
                language: "nb", at: t0 + 3600)
            f.patients.append((patientId, invitationId, number))
        }
        return f
    }

    func pass(_ target: any RegistryTarget, policy: ForwardingPolicy = ForwardingPolicy()) -> ForwardingPass {
        ForwardingPass(
            store: store, vault: vault, catalogue: catalogue, target: target, policy: policy, logger: Logger(label: "test"),
            random: { 0.5 })
    }

    func localStore() throws -> (LocalRegistryStore, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("svar-registry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return (
            try LocalRegistryStore(path: folder.appendingPathComponent("registry.sqlite").path, sealingKey: vault.registryStoreKey), folder
        )
    }

    func forwards() async throws -> [OutboxItem] {
        try await store.outboxItems(kind: .forward)
    }
}
