import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SvarDomain
import SvarStore
import SvarTestSupport
import Testing

/// Issue 16, safety flags: an answer the instrument data mark (RAND-36's mood items at "all/most of the time", the
/// worst EQ-5D anxiety) is shown to the unit's clinicians until one of them marks it seen.
@Suite struct ClinicianSafetyTests {
    @Test(arguments: StoreKind.engines)
    func aFlagStaysOnTheStartPageUntilAClinicianOfTheUnitMarksItSeen(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        // The fixture's baseline answers the first option everywhere: RAND-36 items 25 and 28 "all of the time".
        let flags = try await f.app.store.safetyFlags(in: .everyUnit, patientId: f.patientId, unseenOnly: true)
        let flag = try #require(flags.first)
        #expect(flags.map(\.instrument) == ["rand36"] && flag.items == ["25", "28"])
        try await f.app.application.test(.router) { client in
            var kari = Browser()
            _ = try await kari.login(client, "kari")
            let start = try await kari.get(client, "/").body
            #expect(start.contains(#"<section class="safety-flags""#), "\(start)")
            #expect(start.contains(#"action="/svar/\#(flag.responseId)/sett""#))
            #expect(start.contains(#"<a href="/pasient/\#(f.patientId)">\#(f.patientId.prefix(8))</a>"#))
            #expect(start.contains("Nedfor og trist hele eller nesten hele tiden (RAND-36)"), "the flag names what was answered")

            // Another unit's clinician sees no flag and cannot mark it: 404, nothing audited.
            var other = Browser()
            _ = try await other.login(client, "other")
            #expect(try await !other.get(client, "/").body.contains(flag.responseId))
            let refused = try await other.post(client, "/svar/\(flag.responseId)/sett", ["tilbake": "/"])
            #expect(refused.status == .notFound)
            // A role that does not see results may not mark either.
            var entity = Browser()
            _ = try await entity.login(client, "entity-a")
            #expect(try await entity.post(client, "/svar/\(flag.responseId)/sett", ["tilbake": "/"]).status == .forbidden)
            // Without the form's CSRF value the mark is refused.
            #expect(try await kari.post(client, "/svar/\(flag.responseId)/sett", ["tilbake": "/"], csrf: false).status == .forbidden)
            #expect(try await f.app.store.auditEntries(subject: f.patientId).contains { $0.action == "safety-flag.seen" } == false)

            let marked = try await kari.post(client, "/svar/\(flag.responseId)/sett", ["tilbake": "/pasient/\(f.patientId)"])
            #expect(marked.status == .seeOther)
            let location = try #require(marked.headers[.location])
            #expect(location.hasPrefix("/pasient/\(f.patientId)"), "back to the page the form was on: \(location)")
            let patientPage = try await kari.get(client, location).body
            #expect(patientPage.contains("Svaret er merket som sett."))
            #expect(patientPage.contains("av kari."), "the patient page keeps the flag, marked with who saw it: \(patientPage)")
            #expect(!patientPage.contains(#"action="/svar/\#(flag.responseId)/sett""#), "no button for a seen flag")
            #expect(try await !kari.get(client, "/").body.contains(#"class="safety-flags""#), "the start page lists unseen flags only")
            let audited = try await f.app.store.auditEntries(subject: f.patientId).filter { $0.action == "safety-flag.seen" }
            #expect(audited.map(\.actor) == ["kari"])

            // A return address elsewhere is not followed.
            let elsewhere = try await kari.post(client, "/svar/\(flag.responseId)/sett", ["tilbake": "https://evil.example/"])
            #expect(elsewhere.headers[.location]?.hasPrefix("/") == true && elsewhere.headers[.location]?.hasPrefix("//") == false)
        }
    }
}
