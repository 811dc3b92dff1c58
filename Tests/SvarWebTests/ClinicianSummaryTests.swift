import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SvarDomain
import SvarServices
import SvarStore
import SvarTestSupport
import Testing

/// Issue 16, "change in ten seconds": the top of a patient's page says, per instrument, where each score started,
/// where it is now, the change, and whether it beats the minimal important difference — in the reader's language,
/// with Norwegian numbers, human names, which way is better, and the MID's source.
@Suite struct ClinicianSummaryTests {
    /// The fixture's baseline (every first option: EQ-5D 11111, VAS 70), then an end-of-treatment answer ten days
    /// later with EQ-5D 33333 and VAS 40.
    func patientWithTwoTimePoints(_ kind: StoreKind) async throws -> ClinicianFixture {
        let f = try await ClinicianFixture.make(kind)
        _ = try await f.app.services.pathways.record(
            courseId: f.courseId, type: .end, date: LocalDate(iso: "2026-11-22")!, unit: nil, nprCode: nil, actor: "test", at: fixedNow)
        let later = fixedNow.addingTimeInterval(10 * 86_400)
        _ = try await SchedulerPass(store: f.app.store, scheduleProtocol: f.app.scheduleProtocol).run(now: later)
        let end = try #require(try await f.app.store.course(f.courseId)?.invitations.first { $0.milestone == "end" })
        try await ClinicianFixture.answerBaseline(
            f.app, invitationId: end.id, choosing: ["MO": 3, "SC": 3, "UA": 3, "PD": 3, "AD": 3, "VAS": 40],
            instruments: ["rand36", "eq5d-5l", "kvarus-followup"], at: later)
        return f
    }

    @Test(arguments: StoreKind.engines)
    func theSummarySaysWhatChangedAndWhetherItMatters(_ kind: StoreKind) async throws {
        let f = try await patientWithTwoTimePoints(kind)
        try await f.app.application.test(.router) { client in
            var kari = Browser()
            _ = try await kari.login(client, "kari")
            let page = try await kari.get(client, "/pasient/\(f.patientId)").body
            let summary = try #require(page.range(of: "Endring i korte trekk").map { String(page[$0.lowerBound...]) })
            let eqRow = try #require(row(summary, "EQ VAS"))
            // 70 → 40 is 30 points worse, beyond Pickard's 7.
            #expect(eqRow.contains("70") && eqRow.contains("40") && eqRow.contains("−30") && eqRow.contains("Verre"))
            #expect(eqRow.contains("høyere er bedre") && eqRow.contains("Pickard et al. 2007"))
            #expect(eqRow.contains("Oppstart, 22. november 2026") && eqRow.contains("Avslutning, 2. desember 2026"))
            let index = try #require(row(summary, "EQ-5D-indeks"))
            #expect(index.contains("1,000") && index.contains("Verre") && index.contains("minste viktige endring (MID) 0,07"))
            let level = try #require(row(summary, "Gange (nivå)"))
            #expect(level.contains("lavere er bedre") && level.contains("+2"))
            let kvarus = try #require(row(summary, "Godt utbytte (svar 4 eller 5)"))
            #expect(kvarus.contains("Bare ett svar så langt"), "Kvarus is answered at the end only")
            #expect(!page.contains("rand36@") && !page.contains(">MO<"), "no raw keys or algorithm ids")
            #expect(page.contains("Norway (Garratt et al. 2024)"), "the index names its value set")
            // The trend charts name the milestones on their time axis.
            #expect(page.contains(">Avslutning 2. desember 2026<") || page.contains("Avslutning 2. desember 2026</text>"))
        }
    }

    @Test(arguments: [StoreKind.sqliteMemory])
    func theSummaryIsInTheReadersLanguage(_ kind: StoreKind) async throws {
        let f = try await patientWithTwoTimePoints(kind)
        try await f.app.application.test(.router) { client in
            var kari = Browser()
            _ = try await kari.login(client, "kari")
            _ = try await kari.get(client, "/")
            let switched = try await kari.post(client, "/sprak", ["language": "en", "tilbake": "/"])
            #expect(switched.status == .seeOther)
            let page = try await kari.get(client, "/pasient/\(f.patientId)").body
            let index = try #require(row(page, "EQ-5D index"))
            #expect(index.contains("1.000") && index.contains("Worse") && index.contains("higher is better"))
            #expect(index.contains("minimal important difference (MID) 0.07"))
        }
    }

    /// The summary table row whose header starts with `label`.
    func row(_ html: String, _ label: String) -> String? {
        guard let start = html.range(of: "<th scope=\"row\">\(label)") else { return nil }
        let rest = html[start.lowerBound...]
        return rest.range(of: "</tr>").map { String(rest[..<$0.upperBound]) }
    }
}
