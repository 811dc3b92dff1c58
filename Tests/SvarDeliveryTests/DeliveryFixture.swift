import Foundation
import Logging
import SvarDelivery
import SvarDomain
import SvarServices
import SvarStore
import SvarTestSupport

let t0 = OsloTime.instant(LocalDate(iso: "2026-12-01")!, hour: 9)
let day: TimeInterval = 86_400
let publicURL = "https://svar.test"

/// A store of the given engine with one unit, a patient with the given contacts, and one open baseline
/// invitation whose notification is queued — the state right after a scheduler pass.
struct DeliveryFixture {
    let store: any TestStore
    let vault: IdentityVault
    let links: LinkIssuer
    let patientId: String
    let courseId: String
    let invitationId: String

    static func make(
        _ kind: StoreKind = .sqliteMemory, email: String? = "kari@example.no", mobile: String? = nil, channels: [String]? = nil,
        language: String = "nb"
    ) async throws -> DeliveryFixture {
        let store = try await kind.make()
        let vault = try IdentityVault(masterKey: Array(repeating: 5, count: 32))
        try await store.createUnit(Unit(resh: "4208", name: "Unit"), actor: "test", at: t0)
        let enrolment = Enrolment(store: store, vault: vault, mode: .test)
        guard
            case .created(let patientId) = try await enrolment.enrol(
                .init(identityNumber: "01914796756", email: email, mobile: mobile, language: language, channels: channels), actor: "test",
                at: t0)
        else {
            throw DeliveryFixtureError()
        }
        let courseId = UUID().uuidString.lowercased()
        try await store.createCourse(NewCourse(id: courseId, patientId: patientId, unit: "4208", type: .D01), actor: "test", at: t0)
        let event = PathwayEvent(id: "start-\(courseId)", type: .start, date: OsloTime.date(of: t0), unit: "4208", recordedBy: "test")
        let plan = ScheduleProtocol.Plan(
            milestone: "baseline", instruments: ["eq5d-5l"], triggerEventId: event.id, dueDate: OsloTime.date(of: t0),
            opensAt: t0, closesAt: t0 + 21 * day, reminders: [t0 + 7 * day])
        _ = try await store.recordEvent(courseId: courseId, event: event, restartingNudges: [], at: t0) { _, _ in [plan] }
        _ = try await store.openDue(now: t0, limit: 10)
        let invitationId = try await store.course(courseId)?.invitations.first?.id ?? ""
        let links = try await LinkIssuer.load(store: store, vault: vault, publicURL: publicURL, now: t0)
        return DeliveryFixture(
            store: store, vault: vault, links: links, patientId: patientId, courseId: courseId, invitationId: invitationId)
    }

    func pass(_ notifiers: [any Notifier], policy: DeliveryPolicy = DeliveryPolicy()) throws -> DeliveryPass {
        DeliveryPass(
            store: store, vault: vault, links: links, composer: try MessageComposer.load(webDirectory: sourceWeb),
            notifiers: notifiers, policy: policy, messageDomain: "svar.test", logger: Logger(label: "test"), random: { 0.5 })
    }

    func items(_ kind: String) async throws -> [OutboxItem] {
        try await store.outbox(patientId: patientId).filter { $0.kind.rawValue == kind }
    }
}

struct DeliveryFixtureError: Error {}

func temporaryFolder(_ name: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("svar-\(name)-\(UUID().uuidString)")
}

func emlFiles(_ folder: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
        .compactMap { try? String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8) }
}
