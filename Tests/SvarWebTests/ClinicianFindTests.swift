import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SvarDomain
import SvarServices
import SvarStore
import SvarTestSupport
import Testing

@testable import SvarWeb

/// Issue 16, "find": names and birth years in the lists for roles that may see names (each read audited), a search
/// by name, identity number (through the vault's lookup hash) or pseudonym, filters, sorting and pages.
@Suite struct ClinicianFindTests {
    @Test(arguments: StoreKind.engines)
    func listsShowNamesToRolesThatMaySeeThemAndPseudonymsToOthers(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        try await f.app.application.test(.router) { client in
            var kari = Browser()
            _ = try await kari.login(client, "kari")
            for path in ["/", "/invitasjoner"] {
                let page = try await kari.get(client, path)
                #expect(page.status == .ok && page.body.contains(ClinicianFixture.name), "\(path) names the patient")
                #expect(!page.body.contains(synthetic(1)), "\(path) never shows the number")
            }
            var entity = Browser()
            _ = try await entity.login(client, "entity-a")
            let list = try await entity.get(client, "/")
            #expect(list.body.contains(String(f.patientId.prefix(8))) && !list.body.contains(ClinicianFixture.name))
            #expect(list.body.contains("Pseudonym (minst 4 tegn)."), "the search says what this role can search by")
        }
        let reads = try await f.app.store.auditEntries(subject: f.patientId).filter { $0.action == "identity.read" }
        #expect(Set(reads.map(\.detail)) == ["course list", "invitation list"] && Set(reads.map(\.actor)) == ["kari"])
    }

    @Test(arguments: StoreKind.engines)
    func aSearchFindsByNumberNameOrPseudonymOnlyWithinTheUnits(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        // Another patient, at the other unit only.
        guard
            case .created(let elsewhere) = try await f.app.services.enrolment.enrol(
                .init(identityNumber: synthetic(2), name: "Per Annensted"), actor: "test", at: fixedNow)
        else { throw FixtureFailure() }
        try await f.app.store.createCourse(
            NewCourse(id: UUID().uuidString.lowercased(), patientId: elsewhere, unit: "5000", type: .D01), actor: "test", at: fixedNow)
        try await f.app.application.test(.router) { client in
            var kari = Browser()
            _ = try await kari.login(client, "kari")
            _ = try await kari.get(client, "/")
            func found(_ search: String) async throws -> Bool {
                let page = try await kari.post(client, "/", ["sok": search])
                #expect(page.status == .ok)
                return page.body.contains("/pasient/\(f.patientId)#")
            }
            #expect(try await found(synthetic(1)), "by identity number")
            #expect(try await found("kari nord"), "by the start of each word of the name")
            #expect(try await found("NORDMANN"))
            #expect(try await found(String(f.patientId.prefix(6))), "by pseudonym")
            let nordkapp = try await found("nordkapp")
            let unknownNumber = try await found(synthetic(3))
            #expect(!nordkapp && !unknownNumber)
            let other = try await kari.post(client, "/", ["sok": synthetic(2)])
            #expect(!other.body.contains("/pasient/\(elsewhere)") && other.body.contains("Ingen treff."), "not outside the units")
            let byName = try await kari.post(client, "/", ["sok": "Per"])
            #expect(!byName.body.contains("Per Annensted"))
            #expect(byName.body.contains("Fjern søk og filter"))
            // A search is never taken from a URL (it would sit in logs and the history): the GET lists everyone.
            let fromURL = try await kari.get(client, "/?sok=\(synthetic(1))")
            #expect(fromURL.body.contains("/pasient/\(f.patientId)#") && !fromURL.body.contains("Fjern søk og filter"))
            let pager = try await kari.post(client, "/invitasjoner", ["sok": synthetic(1)])
            #expect(pager.status == .ok && !pager.body.contains("sok=\(synthetic(1))"), "the number is not put into a link")
        }
        let searches = try await f.app.store.auditEntries(subject: f.patientId).filter { $0.detail == "name search" }
        #expect(!searches.isEmpty, "opening names to search them is audited")
        #expect(try await f.app.store.auditEntries(subject: elsewhere).isEmpty == false)
        #expect(
            try await f.app.store.auditEntries(subject: elsewhere).allSatisfy { $0.action != "identity.read" },
            "a patient outside the units is never opened")
    }

    @Test(arguments: [StoreKind.sqliteMemory])
    func filtersSortingAndPagesNarrowTheList(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        for _ in 0..<55 {
            try await f.app.store.createCourse(
                NewCourse(id: UUID().uuidString.lowercased(), patientId: f.patientId, unit: "4208", type: .D11), actor: "test",
                at: fixedNow)
        }
        // One more, started today: its baseline opens at once.
        let today = UUID().uuidString.lowercased()
        try await f.app.store.createCourse(
            NewCourse(id: today, patientId: f.patientId, unit: "4208", type: .D01), actor: "test", at: fixedNow)
        _ = try await f.app.services.pathways.record(
            courseId: today, type: .start, date: LocalDate(iso: "2026-11-22")!, unit: nil, nprCode: nil, actor: "test", at: fixedNow)
        _ = try await SchedulerPass(store: f.app.store, scheduleProtocol: f.app.scheduleProtocol).run(now: fixedNow)
        try await f.app.application.test(.router) { client in
            var kari = Browser()
            _ = try await kari.login(client, "kari")
            let first = try await kari.get(client, "/")
            #expect(first.body.contains("Viser 1–50 av 57.") && first.body.contains(#"rel="next""#))
            let second = try await kari.get(client, "/?sorter=startet&side=2")
            #expect(second.body.contains("Viser 51–57 av 57.") && second.body.contains(#"rel="prev""#))
            // The course started today sorts first; its open baseline says "open now", never a date in the past.
            #expect(first.body.contains("Oppstart, åpent nå"))
            let ended = try await kari.get(client, "/?status=ended")
            #expect(ended.body.contains("Ingen treff.") && !ended.body.contains("#forlop-"))
            let otherUnit = try await kari.get(client, "/?enhet=5000")
            #expect(otherUnit.body.contains("Ingen treff."), "a filter narrows the units, never widens them")
            let bogus = try await kari.get(client, "/?sorter=x&side=abc")
            #expect(bogus.status == .ok && bogus.body.contains("Viser 1–50 av 57."), "an unknown value falls back to the default")
        }
    }

    @Test func aNameMatchesWhenEveryWordStartsOneOfItsWords() {
        #expect(ClinicianController.name("Kari Nordmann", matches: "kar nor"))
        #expect(ClinicianController.name("Anne-Lise Ødegård", matches: "lise ødeg"))
        #expect(!ClinicianController.name("Kari Nordmann", matches: "ari"))
        #expect(!ClinicianController.name("Øyvind Berg", matches: "oyvind"), "ø is a letter of its own")
    }
}
