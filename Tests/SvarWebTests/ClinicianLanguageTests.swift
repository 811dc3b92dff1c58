import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SvarTestSupport
import SvarWeb
import Testing

/// Issues #12 and #16: the clinician pages in bokmål, nynorsk or English, chosen per user and kept across logins.
@Suite struct ClinicianLanguageTests {
    @Test(arguments: StoreKind.engines)
    func aClinicianSwitchesToNynorskAndEnglishAndKeepsTheChoiceAcrossLogins(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        try await f.app.application.test(.router) { client in
            var browser = Browser()
            _ = try await browser.login(client, "kari")
            let bokmal = try await browser.get(client, "/")
            #expect(bokmal.body.contains(#"<html lang="nb">"#) && bokmal.body.contains("Forløp ved enhetene dine, med neste skjema"))
            #expect(bokmal.body.contains(#"action="/sprak""#) && bokmal.body.contains(#"value="nn" lang="nn""#))

            var switched = try await browser.post(client, "/sprak", ["language": "nn", "tilbake": "/"])
            #expect(switched.status == .seeOther && switched.headers[.location] == "/?lagret=sprak")
            let nynorsk = try await browser.get(client, "/?lagret=sprak")
            #expect(nynorsk.body.contains(#"role="status"><p>Språket for sidene dine er lagra.</p>"#), "the choice is confirmed")
            #expect(nynorsk.body.contains(#"<html lang="nn">"#), "\(nynorsk.body.prefix(300))")
            #expect(nynorsk.body.contains("Forløp ved einingane dine, med neste skjema") && nynorsk.body.contains("Einingane dine:"))
            #expect(nynorsk.body.contains("Invitasjonar") && nynorsk.body.contains("Svar for behandlarar"))
            #expect(nynorsk.body.contains("(behandlar)") && !nynorsk.body.contains("Forløp ved enhetene dine"))

            switched = try await browser.post(client, "/sprak", ["language": "en", "tilbake": "/invitasjoner"])
            #expect(switched.status == .seeOther && switched.headers[.location] == "/invitasjoner?lagret=sprak")
            let english = try await browser.get(client, "/")
            #expect(
                english.body.contains(#"<html lang="en">"#) && english.body.contains("Courses at your units, with the next questionnaire"))
            #expect(english.body.contains("Log out") && english.body.contains("Response rate") && english.body.contains("Your units:"))
            #expect(english.body.contains(#"value="en" lang="en" class="button-link" aria-pressed="true""#))
            #expect(try await f.app.store.user("kari")?.language == "en")

            // Kept across a new login, in a new browser; another user still gets bokmål.
            _ = try await browser.post(client, "/logout", [:])
            var again = Browser()
            _ = try await again.login(client, "kari")
            let next = try await again.get(client, "/")
            #expect(next.status == .ok && next.body.contains(#"<html lang="en">"#) && next.body.contains("Courses at your units"))
            let patient = try await again.get(client, "/pasient/\(f.patientId)")
            #expect(patient.body.contains("Results over time") && patient.body.contains("All answers"))
            var other = Browser()
            _ = try await other.login(client, "kontakt")
            #expect(try await other.get(client, "/").body.contains(#"<html lang="nb">"#))
        }
    }

    @Test(arguments: StoreKind.engines)
    func theSwitchNeedsTheCSRFTokenAKnownLanguageAndGoesBackOnlyWithinTheSite(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        try await f.app.application.test(.router) { client in
            var browser = Browser()
            _ = try await browser.login(client, "kari")
            _ = try await browser.get(client, "/")
            let forged = try await browser.post(client, "/sprak", ["language": "en", "tilbake": "/"], csrf: false)
            #expect(forged.status == .forbidden)
            let unknown = try await browser.post(client, "/sprak", ["language": "de", "tilbake": "/"])
            #expect(unknown.status == .unprocessableContent)
            #expect(try await f.app.store.user("kari")?.language == nil)
            let away = try await browser.post(client, "/sprak", ["language": "nn", "tilbake": "//evil.example/x"])
            #expect(away.status == .seeOther && away.headers[.location] == "/?lagret=sprak")
        }
    }

    @Test func aClinicianPackMissingAKeyStopsStartUpNamingTheFile() async throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("svar-web-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.copyItem(at: sourceWeb, to: copy)
        let file = copy.appendingPathComponent("i18n/clinician-nn.json")
        var pack = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: String])
        pack["logout"] = nil
        try JSONSerialization.data(withJSONObject: pack).write(to: file)
        do {
            _ = try await PageRenderer.load(webDirectory: copy)
            Issue.record("a pack without a key was accepted")
        } catch let error as PageError {
            #expect(error.description.contains("web/i18n/clinician-nn.json") && error.description.contains("logout"), "\(error)")
        }
    }
}
