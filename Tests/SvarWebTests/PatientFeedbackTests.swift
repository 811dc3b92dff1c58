import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SvarDomain
import SvarStore
import SvarTestSupport
import SvarWeb
import Testing

/// Issue 15 item 6: the patient's own results on the thank-you page, right after submitting, once — and only
/// when the protocol turns it on.
@Suite struct PatientFeedbackTests {
    typealias Browser = PatientPageTests.Browser
    let fixture = PatientPageTests()

    /// Answers and submits; returns the browser, the thank-you page's address and the cookie the submission set.
    func submit(_ client: any TestClientProtocol, _ app: TestApp, language: String) async throws -> (Browser, String, String?, String) {
        let (link, _) = try await fixture.invitationLink(client, app)
        let browser = Browser(client)
        let review = try await fixture.answerAll(browser, link, language: language)
        let csrfCookie = try #require(browser.cookie)
        let submitted = try await browser.post("\(link)/submit?lang=\(language)", ["csrf": try #require(review.csrf)])
        #expect(submitted.status == .seeOther)
        let setCookie = submitted.headers[.setCookie]
        // The browser sends both cookies on to the thank-you page.
        browser.cookie = [csrfCookie, setCookie?.split(separator: ";").first.map(String.init)].compactMap { $0 }.joined(separator: "; ")
        return (browser, try #require(submitted.location), setCookie, link)
    }

    @Test(arguments: StoreKind.engines)
    func theResultsAreShownOnceRightAfterSubmittingWhenTheProtocolSaysSo(_ kind: StoreKind) async throws {
        let app = try await TestApp.make(kind, patientFeedback: true)
        try await app.application.test(.router) { client in
            let (browser, done, setCookie, link) = try await submit(client, app, language: "nb")
            #expect(setCookie?.hasPrefix("svar_feedback=") == true)
            #expect(setCookie?.contains("HttpOnly") == true)
            let thanks = try await browser.get(done)
            #expect(thanks.status == .ok)
            #expect(thanks.html.contains("Dine resultater"))
            // RAND-36 physical functioning beside the norm (86.44 in norms.json), the EQ VAS (50) with no norm.
            #expect(thanks.html.firstMatch(of: /Fysisk funksjon: \d{1,3} av 100\. Folk flest i Norge: 86\./) != nil, "\(thanks.html)")
            #expect(thanks.html.contains("Helsen din i dag, slik du selv vurderte den: 50 av 100.</li>"))
            #expect(!thanks.html.contains("{label}") && !thanks.html.contains("{norm}"))
            // The page clears the cookie as it shows the results: a reload shows the plain thank-you page.
            #expect(thanks.headers[.setCookie]?.contains("Max-Age=0") == true)
            let again = try await browser.get(done)
            #expect(again.status == .ok && again.h1 == thanks.h1)
            #expect(!again.html.contains("Dine resultater") && !again.html.contains("av 100."))
            // Nor through the link afterwards.
            let answered = try await browser.get(link)
            #expect(!answered.html.contains("av 100."))
        }
    }

    @Test(arguments: ["nn", "en"])
    func theResultsAreInThePatientsLanguage(_ language: String) async throws {
        let app = try await TestApp.make(patientFeedback: true)
        try await app.application.test(.router) { client in
            let (browser, done, _, _) = try await submit(client, app, language: language)
            let thanks = try await browser.get(done)
            let expected = ["nn": "Fysisk funksjon: ", "en": "Physical functioning: "][language] ?? "?"
            let norm = ["nn": "Folk flest i Noreg: 86.", "en": "Most people in Norway: 86."][language] ?? "?"
            #expect(thanks.html.contains(expected) && thanks.html.contains(norm), "\(thanks.html)")
        }
    }

    @Test func nothingIsShownWhenTheProtocolLeavesFeedbackOff() async throws {
        let app = try await TestApp.make()
        try await app.application.test(.router) { client in
            let (browser, done, setCookie, _) = try await submit(client, app, language: "nb")
            #expect(setCookie == nil || setCookie?.hasPrefix("svar_feedback=") == false)
            let thanks = try await browser.get(done)
            #expect(thanks.status == .ok)
            #expect(!thanks.html.contains("Dine resultater") && !thanks.html.contains("av 100."))
        }
    }

    @Test func aForgedOrForeignCookieShowsNothing() async throws {
        let app = try await TestApp.make(patientFeedback: true)
        try await app.application.test(.router) { client in
            let (browser, done, _, _) = try await submit(client, app, language: "nb")
            let csrf = browser.cookie?.split(separator: ";").first.map(String.init) ?? ""
            browser.cookie = "\(csrf); svar_feedback=" + String(repeating: "A", count: 59)
            #expect(!(try await browser.get(done)).html.contains("av 100."))
        }
    }
}
