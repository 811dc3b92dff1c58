import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SvarDomain
import SvarInstruments
import SvarStore
import SvarTestSupport
import SvarWeb
import Testing

/// The patient pages through the router: a link from the API, every step, review, submit; CSRF; the calm
/// failure pages; parallel submits; and random or mutated tokens that must never cause a 5xx.
@Suite struct PatientPageTests {
    struct Page {
        let status: HTTPResponse.Status
        let html: String
        let headers: HTTPFields
        var csrf: String? { html.firstMatch(of: /name="csrf" value="([^"]+)"/).map { String($0.1) } }
        var location: String? { headers[.location] }
        var h1: String? { html.firstMatch(of: /<h1[^>]*>([^<]*)</).map { String($0.1) } }
    }

    /// A browser-like client: keeps the CSRF cookie.
    final class Browser: @unchecked Sendable {
        let client: any TestClientProtocol
        var cookie: String?
        init(_ client: any TestClientProtocol) { self.client = client }

        func get(_ uri: String) async throws -> Page { try await send(.get, uri, nil) }
        func post(_ uri: String, _ form: [String: String]) async throws -> Page {
            let body = form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(
                separator: "&")
            return try await send(.post, uri, body)
        }
        func send(_ method: HTTPRequest.Method, _ uri: String, _ body: String?) async throws -> Page {
            var headers = HTTPFields()
            if let cookie { headers[.cookie] = cookie }
            if body != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
            let page = try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) {
                r in
                Page(status: r.status, html: String(buffer: r.body), headers: r.headers)
            }
            if let set = page.headers[.setCookie], let pair = set.split(separator: ";").first { cookie = String(pair) }
            return page
        }
    }

    /// Unit, patient, course, `start` today → a baseline invitation; returns (link path, course id).
    func invitationLink(_ client: any TestClientProtocol, _ app: TestApp, number: Int = 1, language: String = "nb") async throws
        -> (String, String)
    {
        _ = try await client.api(.post, "/api/v1/units", #"{"resh":"4208","name":"U"}"#)
        let patient = try await client.api(
            .post, "/api/v1/patients", #"{"identityNumber":"\#(synthetic(number))","language":"\#(language)"}"#)
        let patientId = try #require(patient.json["id"]?.stringValue)
        let course = try await client.api(.post, "/api/v1/patients/\(patientId)/courses", #"{"unit":"4208"}"#)
        let courseId = try #require(course.json["id"]?.stringValue)
        let withEvent = try await client.api(.post, "/api/v1/courses/\(courseId)/events", #"{"type":"start","date":"2026-11-22"}"#)
        guard case .array(let invitations)? = withEvent.json["invitations"], let id = invitations.first?["id"]?.stringValue else {
            throw HTTPError(.internalServerError)
        }
        let link = try await client.api(.post, "/api/v1/invitations/\(id)/link")
        let url = try #require(link.json["url"]?.stringValue)
        return (String(url.dropFirst("https://svar.test".count)), courseId)
    }

    /// Answers every step with the first option (choice) or the middle of the range (integer).
    func answerAll(_ browser: Browser, _ link: String, language: String = "nb") async throws -> Page {
        var uri = "\(link)/s/1?lang=\(language)"
        for _ in 0..<40 {
            let page = try await browser.get(uri)
            #expect(page.status == .ok, "\(uri)")
            var form = ["csrf": try #require(page.csrf)]
            for match in page.html.matches(of: /name="([^"]+)" id="q-[^"]*" value="(\d+)"/) where form[String(match.1)] == nil {
                form[String(match.1)] = String(match.2)
            }
            // The baseline's one number question is the EQ VAS (0–100): the middle of it.
            for match in page.html.matches(of: /inputmode="numeric" spellcheck="false" name="([^"]+)"/) {
                form[String(match.1)] = "50"
            }
            let saved = try await browser.post(uri, form)
            #expect(saved.status == .seeOther, "\(uri): \(saved.h1 ?? "") \(saved.status)")
            uri = try #require(saved.location)
            if uri.contains("/review") { return try await browser.get(uri) }
        }
        Issue.record("never reached the review page")
        return try await browser.get(uri)
    }

    @Test(arguments: StoreKind.engines)
    func aPatientAnswersEveryStepReviewsAndSubmits(_ kind: StoreKind) async throws {
        let app = try await TestApp.make(kind)
        try await app.application.test(.router) { client in
            let (link, courseId) = try await invitationLink(client, app)
            let browser = Browser(client)
            let landing = try await browser.get(link)
            #expect(landing.status == .ok)
            #expect(landing.html.contains(#"<html lang="nb""#))
            #expect(landing.headers[.contentSecurityPolicy]?.contains("unsafe-inline") == false)
            #expect(landing.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            #expect(landing.headers[.cacheControl] == "no-store")
            #expect(landing.html.contains("/tilgjengelighet"))
            let review = try await answerAll(browser, link)
            #expect(review.status == .ok)
            let submitted = try await browser.post("\(link)/submit?lang=nb", ["csrf": try #require(review.csrf)])
            #expect(submitted.status == .seeOther)
            let thanks = try await browser.get(try #require(submitted.location))
            #expect(thanks.status == .ok)
            let course = try await client.api(.get, "/api/v1/courses/\(courseId)")
            guard case .array(let invitations)? = course.json["invitations"], let invitation = invitations.first else {
                Issue.record("no invitation")
                return
            }
            #expect(invitation["state"] == .string("completed"))
            let id = try #require(invitation["id"]?.stringValue)
            let responses = try await app.store.responses(invitationId: id)
            #expect(responses.map(\.instrument) == ["eq5d-5l", "rand36"])
            let eq5d = try #require(responses.first)
            #expect(eq5d.answersJSON == #"{"AD":1,"MO":1,"PD":1,"SC":1,"UA":1,"VAS":50}"#)
            #expect(eq5d.scores.first { $0.key == "index" }?.number == "1")
            #expect(eq5d.scores.first { $0.key == "index" }?.valueSet == "no-2024")
            let rand = try #require(responses.last)
            #expect(rand.scores.first { $0.key == "pain" }?.number == "100")
            #expect(rand.scores.first { $0.key == "generalHealth" }?.number == "60")
            // The link is dead now: a calm "already answered" page, never the answers.
            let again = try await browser.get(link)
            #expect(again.status == .ok)
            #expect(!again.html.contains("q-MO"))
            #expect(try await browser.get("\(link)/s/1").status == .ok)
        }
    }

    @Test(arguments: StoreKind.engines)
    func answersAreSavedStepByStepAndShownAgainOnResume(_ kind: StoreKind) async throws {
        let app = try await TestApp.make(kind)
        try await app.application.test(.router) { client in
            let (link, _) = try await invitationLink(client, app)
            let browser = Browser(client)
            let step1 = try await browser.get("\(link)/s/1?lang=en")
            let saved = try await browser.post("\(link)/s/1?lang=en", ["csrf": try #require(step1.csrf), "1": "3", "2": "4"])
            #expect(saved.status == .seeOther)
            let other = Browser(client)  // another device, same link
            let resumed = try await other.get("\(link)/s/1?lang=en")
            #expect(resumed.html.contains(#"id="q-1-3" value="3" checked"#))
            #expect(resumed.html.contains(#"id="q-2-4" value="4" checked"#))
        }
    }

    @Test(arguments: StoreKind.engines)
    func badAnswersAreShownNextToTheQuestionInThePatientsLanguage(_ kind: StoreKind) async throws {
        let app = try await TestApp.make(kind)
        try await app.application.test(.router) { client in
            let (link, _) = try await invitationLink(client, app)
            let browser = Browser(client)
            let eq5dStep = 9  // rand36 has 8 steps; then EQ-5D's dimensions
            let page = try await browser.get("\(link)/s/\(eq5dStep)?lang=nn")
            let refused = try await browser.post("\(link)/s/\(eq5dStep)?lang=nn", ["csrf": try #require(page.csrf), "MO": "7", "SC": "2"])
            #expect(refused.status == .unprocessableContent)
            #expect(refused.html.contains(#"id="q-MO-error""#))
            #expect(refused.html.contains(#"aria-invalid"#) || refused.html.contains("q-MO-error"))
            #expect(refused.html.contains(#"lang="nn""#))
            #expect(refused.html.contains(#"id="q-SC-2" value="2" checked"#))  // the valid answer is kept
            #expect(refused.html.contains(#"id="q-UA-error""#))  // required and missing
        }
    }

    @Test(arguments: StoreKind.engines)
    func formsWithoutTheCSRFTokenAreRefused(_ kind: StoreKind) async throws {
        let app = try await TestApp.make(kind)
        try await app.application.test(.router) { client in
            let (link, _) = try await invitationLink(client, app)
            let browser = Browser(client)
            _ = try await browser.get(link)
            #expect(try await browser.post("\(link)/s/1", ["1": "2"]).status == .forbidden)
            #expect(try await browser.post("\(link)/s/1", ["1": "2", "csrf": "x"]).status == .forbidden)
            #expect(try await browser.post("\(link)/submit", ["csrf": String(repeating: "A", count: 43)]).status == .forbidden)
            let stranger = Browser(client)  // no cookie at all
            #expect(try await stranger.post("\(link)/submit", ["csrf": "anything"]).status == .forbidden)
        }
    }

    @Test(arguments: StoreKind.engines)
    func twoSimultaneousSubmitsStoreExactlyOneResponse(_ kind: StoreKind) async throws {
        let app = try await TestApp.make(kind)
        try await app.application.test(.router) { client in
            let (link, courseId) = try await invitationLink(client, app)
            let browser = Browser(client)
            let review = try await answerAll(browser, link)
            let csrf = try #require(review.csrf)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await browser.post("\(link)/submit?lang=nb", ["csrf": csrf]).status }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == .seeOther })
            let course = try await client.api(.get, "/api/v1/courses/\(courseId)")
            guard case .array(let invitations)? = course.json["invitations"], let id = invitations.first?["id"]?.stringValue else {
                Issue.record("no invitation")
                return
            }
            #expect(try await app.store.responses(invitationId: id).count == 2)  // one per instrument, once
            guard case .array(let history)? = invitations.first?["history"] else {
                Issue.record("no history")
                return
            }
            #expect(history.filter { $0["to"] == .string("completed") }.count == 1)
        }
    }

    // One engine: a token that fails verification never reaches the store (10 000 requests are not worth doubling).
    @Test func randomAndMutatedTokensGetACalmClientErrorNeverA5xx() async throws {
        let app = try await TestApp.make()
        try await app.application.test(.router) { client in
            let (link, _) = try await invitationLink(client, app)
            let valid = String(link.dropFirst("/a/".count))
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
            var rng = SystemRandomNumberGenerator()
            var statuses: [Int: Int] = [:]
            for i in 0..<10_000 {
                var token: String
                switch i % 3 {
                case 0: token = String((0..<Int.random(in: 1...150, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
                case 1:
                    var chars = Array(valid)
                    let position = Int.random(in: 0..<chars.count, using: &rng)
                    chars[position] = alphabet.filter { $0 != chars[position] }.randomElement(using: &rng)!
                    token = String(chars)
                default: token = String(valid.prefix(Int.random(in: 1..<valid.count, using: &rng)))
                }
                let status = try await client.execute(uri: "/a/\(token)", method: .get) { $0.status }
                statuses[Int(status.code), default: 0] += 1
                #expect((400..<500).contains(status.code), "token \(token) → \(status.code)")
            }
            #expect(statuses.keys.allSatisfy { $0 == 404 || $0 == 429 })
        }
    }

    /// A request to a bad link is one failed link check, however the route uses the link: the per-client limit (30)
    /// is reached on the 30th such request, not the 15th (each request opens its link once).
    // One engine: a bad link is refused before the store is reached.
    @Test(arguments: [(HTTPRequest.Method.post, "s/1"), (.post, "submit"), (.post, "verify"), (.get, "done"), (.get, "s/1")])
    func aBadLinkCountsOneFailurePerRequest(_ method: HTTPRequest.Method, _ action: String) async throws {
        let app = try await TestApp.make()
        try await app.application.test(.router) { client in
            let browser = Browser(client)
            _ = try await browser.get("/tilgjengelighet")  // the CSRF cookie, without touching a link
            let csrf = try #require(browser.cookie?.split(separator: "=", maxSplits: 1).last.map(String.init))
            let bad = "/a/" + String(repeating: "A", count: 60) + "/" + action
            func send() async throws -> HTTPResponse.Status {
                method == .post ? try await browser.post(bad, ["csrf": csrf]).status : try await browser.get(bad).status
            }
            for attempt in 1..<30 {
                #expect(try await send() == .notFound, "attempt \(attempt)")
            }
            #expect(try await send() == .tooManyRequests, "the 30th failure reaches the limit")
        }
    }

    // One engine: static pages, no storage.
    @Test func theAccessibilityStatementIsServedInEachLanguage() async throws {
        let app = try await TestApp.make()
        try await app.application.test(.router) { client in
            for language in ["nb", "nn", "en"] {
                let html = try await client.execute(uri: "/tilgjengelighet?lang=\(language)", method: .get) { r in
                    #expect(r.status == .ok)
                    return String(buffer: r.body)
                }
                #expect(html.contains(#"<html lang="\#(language)""#))
            }
            let css = try await client.execute(uri: "/static/svar.css", method: .get) { $0.status }
            #expect(css == .ok)
        }
    }
}
