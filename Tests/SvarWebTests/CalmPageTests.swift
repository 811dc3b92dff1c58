import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SvarServices
import Testing

/// Issue 15 item 5: every calm page is in the patient's language with the patient pages' layout — a 404 for any
/// path Svar does not serve included — and the accessibility statement is complete and linked from every page.
@Suite struct CalmPageTests {
    func get(_ client: some TestClientProtocol, _ uri: String) async throws -> (HTTPResponse.Status, String, HTTPFields) {
        try await client.execute(uri: uri, method: .get) { ($0.status, String(buffer: $0.body), $0.headers) }
    }

    /// The marks of the patient pages' layout: header with the language choice, main, footer with the statement.
    func hasPatientLayout(_ html: String, _ language: String) -> Bool {
        html.contains(#"<html lang="\#(language)""#) && html.contains(#"<header class="site-header">"#)
            && html.contains(#"class="language-nav""#) && html.contains(#"<main id="main""#)
            && html.contains(#"<footer class="site-footer">"#) && html.contains("/tilgjengelighet?lang=\(language)")
    }

    /// The "already answered" page of a link opened without `?lang=` speaks the patient's own language (here
    /// nynorsk), not bokmål; asking for another language still wins.
    @Test func theAlreadyAnsweredPageIsInThePatientsOwnLanguage() async throws {
        let app = try await TestApp.make()
        try await app.application.test(.router) { client in
            let helper = PatientPageTests()
            let (link, _) = try await helper.invitationLink(client, app, language: "nn")
            let browser = PatientPageTests.Browser(client)
            let review = try await helper.answerAll(browser, link)
            #expect(try await browser.post("\(link)/submit?lang=nn", ["csrf": try #require(review.csrf)]).status == .seeOther)
            let (status, html, _) = try await get(client, link)
            #expect(status == .ok && html.contains("Skjemaet er allereie svart på") && hasPatientLayout(html, "nn"))
            let (_, english, _) = try await get(client, "\(link)?lang=en")
            #expect(hasPatientLayout(english, "en") && !english.contains("Skjemaet er allereie svart på"))
        }
    }

    @Test(arguments: [
        ("/finnes-ikke", "nb", "Siden finnes ikke"), ("/finnes-ikke?lang=en", "en", "Page not found"),
        ("/a/x/y/z?lang=nn", "nn", "Sida finst ikkje"), ("/a/x/y/z", "nb", "Siden finnes ikke"),
        ("/static/finnes-ikke.css?lang=en", "en", "Page not found"), ("/pasient/1/2/3?lang=nn", "nn", "Sida finst ikkje"),
    ])
    func anUnknownPathIsACalmPageInThePatientsLanguage(_ uri: String, _ language: String, _ heading: String) async throws {
        let app = try await TestApp.make()
        try await app.application.test(.router) { client in
            let (status, html, headers) = try await get(client, uri)
            #expect(status == .notFound)
            #expect(html.contains("<h1>\(heading)</h1>"), "\(uri): \(html.prefix(300))")
            #expect(hasPatientLayout(html, language), "\(uri)")
            #expect(headers[.contentType] == "text/html; charset=utf-8")
            #expect(headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true, "security headers on the 404 too")
        }
    }

    @Test func aStepNumberTheQuestionnaireDoesNotHaveIsTheSameCalmPage() async throws {
        let app = try await TestApp.make()
        try await app.application.test(.router) { client in
            let (link, _) = try await PatientPageTests().invitationLink(client, app)
            let (status, html, _) = try await get(client, "\(link)/s/99?lang=en")
            #expect(status == .notFound)
            #expect(html.contains("<h1>Page not found</h1>") && hasPatientLayout(html, "en"))
            // What the path held is shown escaped, never as markup.
            let (_, escaped, _) = try await get(client, "/%3Cscript%3Ex%3C/script%3E")
            #expect(!escaped.contains("<script>"))
            // The API keeps its problem+json.
            let api = try await client.api(.get, "/api/v1/finnes-ikke")
            #expect(api.status == .notFound && api.headers[.contentType] == "application/problem+json")
        }
    }

    @Test func expiredInvalidAndLockedPagesUseTheLayoutInTheLanguageAsked() async throws {
        let app = try await TestApp.make()
        try await app.application.test(.router) { client in
            let bad = "/a/" + String(repeating: "A", count: 60)
            let (status, html, _) = try await get(client, "\(bad)?lang=nn")
            #expect(status == .notFound)
            #expect(html.contains("Lenkja verkar ikkje") && hasPatientLayout(html, "nn"))
        }
    }

    @Test(arguments: ["nb", "nn", "en"])
    func theAccessibilityStatementIsCompleteInEachLanguage(_ language: String) async throws {
        let app = try await TestApp.make { $0.accessibilityContact = "tilgjengelighet@svar.example, 22 11 33 44" }
        let texts =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: sourceWeb.appendingPathComponent("i18n/\(language).json"))) as? [String: String] ?? [:]
        try await app.application.test(.router) { client in
            let (status, html, _) = try await get(client, "/tilgjengelighet?lang=\(language)&fra=/a/TOKEN/s/3?lang=\(language)")
            #expect(status == .ok && hasPatientLayout(html, language))
            for key in [
                "accessibilityDateLabel", "accessibilityDate", "accessibilityKnownHeading", "accessibilityKnown1",
                "accessibilityContactHeading", "accessibilityBackLink",
            ] {
                #expect(html.contains(try #require(texts[key])), "\(language): \(key)")
            }
            #expect(html.contains(#"<time datetime="2026-12-06">"#))
            #expect(html.contains("tilgjengelighet@svar.example, 22 11 33 44"), "the configured contact")
            #expect(html.contains(#"<a href="/a/TOKEN/s/3?lang=\#(language)">"#), "the way back")
            // A way back leads only to a page of this site.
            for outside in ["//evil.example/x", "https://evil.example/", "/a/x?next=https://e.example", "/a/<b>"] {
                let encoded = outside.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                let (_, page, _) = try await get(client, "/tilgjengelighet?lang=\(language)&fra=\(encoded)")
                #expect(!page.contains(try #require(texts["accessibilityBackLink"])), "\(outside)")
            }
        }
        let unset = try await TestApp.make()
        try await unset.application.test(.router) { client in
            let (_, html, _) = try await get(client, "/tilgjengelighet?lang=\(language)")
            #expect(html.contains(try #require(texts["accessibilityContactNone"])))
        }
    }

    @Test func everyPatientPageAndTheClinicianFooterLinkToTheStatement() async throws {
        let app = try await TestApp.make()
        try await app.application.test(.router) { client in
            let (link, _) = try await PatientPageTests().invitationLink(client, app)
            for uri in ["\(link)?lang=nn", "\(link)/s/1?lang=nn", "\(link)/review?lang=nn", "/finnes-ikke?lang=nn"] {
                let (_, html, _) = try await get(client, uri)
                let path = String(uri.split(separator: "?")[0])
                #expect(html.contains("/tilgjengelighet?lang=nn&amp;fra=\(path)?lang=nn"), "\(uri) links to the statement and back")
            }
            let (_, login, _) = try await get(client, "/login")
            #expect(login.contains(#"<a href="/tilgjengelighet?lang=nb&amp;fra=/">"#), "the clinician footer")
        }
    }

    @Test func theAccessibilityContactIsCheckedLikeTheContactLine() throws {
        #expect(try SvarConfiguration.fromEnvironment(["SVAR_ACCESSIBILITY_CONTACT": "uu@h.no"]).accessibilityContact == "uu@h.no")
        #expect(try SvarConfiguration.fromEnvironment([:]).accessibilityContact == nil)
        #expect(throws: ConfigurationProblem.self) {
            _ = try SvarConfiguration.fromEnvironment(["SVAR_ACCESSIBILITY_CONTACT": "a\u{202E}b"])
        }
    }
}
