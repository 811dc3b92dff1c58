import Crypto
import Foundation
import Hummingbird
import SvarDomain
import SvarInstruments
import SvarServices
import SvarStore

/// The patient pages under `/a/{token}`: landing, steps, review, submit, thank you — server-rendered, no
/// JavaScript, CSRF-protected forms (double-submit cookie), and calm pages for every way a link can fail.
/// Every request opens (verifies) its link exactly once, so a bad link counts once against the client.
struct PatientController: Sendable {
    /// What opening a link gave: a session to answer in, an invitation already answered, or the calm page of a link
    /// that did not open (already counted as a failure where it was one).
    enum LinkOpening {
        case session(PatientAnswering.Session, Language)
        case answered(Language)
        case page(Response)
    }

    let services: AppServices
    /// Failed link checks and wrong second-factor answers per client.
    let limiter: RecentFailures
    /// Step pages, each rendered once per step and language and filled per request.
    let stepPages: StepPages
    static let csrfCookie = "svar_csrf"
    static let factorCookie = "svar_factor"

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("a/:token", use: landing)
        router.post("a/:token/start", use: start)
        router.get("a/:token/s/:step", use: showStep)
        router.post("a/:token/s/:step", use: saveStep)
        router.get("a/:token/review", use: review)
        router.post("a/:token/submit", use: submit)
        router.get("a/:token/done", use: done)
        router.post("a/:token/verify", use: verify)
        router.get("tilgjengelighet", use: accessibility)
        addRightsRoutes(to: router)
    }

    // MARK: Opening a link

    func token(_ context: AppRequestContext) -> String { context.parameters.get("token") ?? "" }

    /// Opens the link: the session and language for a valid one, or the calm page that fits. The signature is
    /// checked first (no database, no limiter); only failures are counted, so a valid link always opens. `csrf` is
    /// the value the caller already took from the request (a new one would differ from the cookie it sets).
    func open(_ request: Request, _ context: AppRequestContext, csrf: String? = nil) async throws -> LinkOpening {
        let now = services.now()
        let csrf = csrf ?? Self.csrfValue(request).value
        let language = Self.language(request)
        switch try await services.answering.open(token: token(context), now: now) {
        case .ready(let session):
            return .session(session, language ?? session.patientLanguage)
        case .answered(let patientLanguage):
            // The language asked for (?lang=), else the patient's own, as on the pages before.
            return .answered(language ?? patientLanguage)
        case .invalid:
            if await limiter.record(context.clientKey(request, services.configuration), now: now) {
                return .page(message("tooMany", language ?? .nb, status: .tooManyRequests, request: request, csrf: csrf))
            }
            return .page(message("invalid", language ?? .nb, status: .notFound, request: request, csrf: csrf))
        case .expired(let patientLanguage):
            return .page(message("expired", language ?? patientLanguage ?? .nb, status: .gone, request: request, csrf: csrf))
        case .closed(let patientLanguage):
            return .page(message("expired", language ?? patientLanguage, status: .gone, request: request, csrf: csrf))
        case .declined(let patientLanguage):
            return .page(message("declineDone", language ?? patientLanguage, status: .gone, request: request, csrf: csrf))
        }
    }

    /// The page for a link that gave no session: its calm page, or "already answered".
    func calmPage(_ opening: LinkOpening, _ request: Request) -> Response {
        switch opening {
        case .page(let page): return page
        case .answered(let language), .session(_, let language):
            return message("answered", language, status: .ok, request: request, csrf: Self.csrfValue(request).value)
        }
    }

    /// Renders `body` for a valid link (marking the invitation opened), or the page that fits; sets the CSRF cookie
    /// on a browser's first page.
    func page(
        _ request: Request, _ context: AppRequestContext, whenAnswered: ((String) -> Response)? = nil,
        _ body: (PatientAnswering.Session, Language, String) throws -> Response
    ) async throws -> Response {
        let csrf = Self.csrfValue(request)
        let opening = try await open(request, context, csrf: csrf.value)
        var response: Response
        switch opening {
        case .session(let session, let language):
            if let gate = try await factorGate(session, language, request, csrf: csrf.value) {
                response = gate
            } else {
                try await services.answering.markOpened(session, now: services.now())
                response = try body(session, language, csrf.value)
            }
        case .answered:
            response = whenAnswered?(csrf.value) ?? calmPage(opening, request)
        case .page(let page):
            response = page
        }
        if csrf.isNew { response.setCookie(services.cookies.make(Self.csrfCookie, csrf.value)) }
        return response
    }

    func message(_ kind: String, _ language: Language, status: HTTPResponse.Status, request: Request, csrf: String) -> Response {
        let pages = services.pages
        let heading = kind == "tooMany" ? pages.text("invalidHeading", language) : pages.text("\(kind)Heading", language)
        let body = kind == "tooMany" ? pages.text("lockedBody", language) : pages.text("\(kind)Body", language)
        return pages.render(
            "message", language: language, title: heading, context: ["heading": heading, "body": body],
            languageURL: { $0.url(request.uri.path) }, csrf: csrf, status: status)
    }

    // MARK: Pages

    func landing(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context) { session, language, csrf in landingPage(session, language, csrf, request) }
    }

    /// The landing page; `problem` is the start form sent back without an answer to "who is filling this in".
    func landingPage(
        _ session: PatientAnswering.Session, _ language: Language, _ csrf: String, _ request: Request, problem: String? = nil,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let pages = services.pages
        let minutes = TimeEstimate.minutes(items: session.itemCount)
        var values: [String: Any] = [
            "heading": pages.text("landingHeading", language), "intro": pages.text("landingIntro", language),
            "startAction": language.url("\(base(request))/start"), "startLabel": pages.text("startButton", language),
            "instrumentCount": session.invitation.instruments.count, "questionCount": session.itemCount,
            "minutes": minutes, "minutesUnit": pages.text(minutes == 1 ? "minuteUnit" : "minutesUnit", language),
            "respondents": Respondent.allCases.filter { $0 != .notStated }.map { r -> [String: Any] in
                ["value": r.rawValue, "label": pages.text("respondent_\(r.rawValue)", language), "checked": session.respondent == r]
            },
        ]
        if let problem {
            values["problem"] = problem
            values["hasError"] = true
        }
        // A patient who has saved answers continues where they stopped (or at the review when all is answered).
        if session.hasDraft {
            values["resuming"] = true
            if let step = session.resumeStep {
                values["startLabel"] = pages.text("resumeButton", language)
                    .replacingOccurrences(of: "{step}", with: String(step))
                    .replacingOccurrences(of: "{total}", with: String(session.steps.count))
            } else {
                values["startLabel"] = pages.text("resumeReviewButton", language)
            }
        }
        values.merge(rightsContext(request, language)) { _, rights in rights }
        return pages.render(
            "landing", language: language, title: pages.text("landingHeading", language),
            context: values.merging(urgentHelp) { _, help in help }, languageURL: { $0.url(request.uri.path) }, csrf: csrf,
            status: status)
    }

    func showStep(_ request: Request, context: AppRequestContext) async throws -> Response {
        var shown: (session: PatientAnswering.Session, step: PatientAnswering.Step)?
        let response = try await page(request, context) { session, language, csrf in
            shown = (session, try stepNumber(context, session))
            return try step(session, language, csrf, request, context, problems: [:], form: nil)
        }
        // Paradata: the first time this step was shown. A failure to record it must never cost the patient the page.
        if let shown {
            do {
                try await services.answering.recordShown(shown.session, step: shown.step, now: services.now())
            } catch {
                context.logger.warning("paradata: the step view was not recorded", metadata: ["error": "\(type(of: error))"])
            }
        }
        return response
    }

    func review(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context) { session, language, csrf in reviewPage(session, language, csrf, request) }
    }

    func done(_ request: Request, context: AppRequestContext) async throws -> Response {
        let pages = services.pages
        let language = Self.language(request) ?? .nb
        // The patient's results, once, right after submitting (when the protocol shows them): see +Feedback.
        let feedback = try await feedbackLines(request, context, language)
        let cleared = feedbackCleared(request)
        let thanks = { (csrf: String) -> Response in
            var response = pages.render(
                "thanks", language: language, title: pages.text("thanksHeading", language),
                context: [
                    "heading": pages.text("thanksHeading", language), "body": pages.text("thanksBody", language),
                    "hasFeedback": !feedback.isEmpty, "feedbackLines": feedback,
                ].merging(urgentHelp) { _, help in help },
                languageURL: { $0.url(request.uri.path) }, csrf: csrf)
            if let cleared { response.setCookie(cleared) }
            return response
        }
        return try await page(request, context, whenAnswered: thanks) { _, _, _ in Self.redirect(base(request)) }
    }

    func accessibility(_ request: Request, context: AppRequestContext) -> Response {
        let language = Self.language(request) ?? .nb
        let csrf = Self.csrfValue(request)
        let pages = services.pages
        let back = Self.localPage(request.uri.queryParameters.get("fra").map { String($0) })
        let own = { (code: Language) in code.url("/tilgjengelighet") + (back.map { "&fra=\($0)" } ?? "") }
        var values: [String: Any] = ["accessibilityURL": own(language)]
        if let back { values["backURL"] = back }
        if let contact = services.configuration.accessibilityContact { values["contact"] = contact }
        var response = pages.render(
            "accessibility", language: language, title: pages.text("accessibilityHeading", language),
            context: values, languageURL: { own($0) }, csrf: csrf.value)
        if csrf.isNew { response.setCookie(services.cookies.make(Self.csrfCookie, csrf.value)) }
        return response
    }

    // MARK: Helpers

    /// `fra` when it is a page of this site (a path, optionally with its language), else nil: the statement's
    /// way back must not become a link to anywhere else.
    static func localPage(_ text: String?) -> String? {
        guard let text, text.count <= 300, text.hasPrefix("/"), !text.hasPrefix("//") else { return nil }
        let parts = text.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let pathAllowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-_.")
        guard parts[0].allSatisfy(pathAllowed.contains) else { return nil }
        if parts.count == 2 {
            guard parts[1].hasPrefix("lang="), Language(rawValue: String(parts[1].dropFirst(5))) != nil else { return nil }
        }
        return text
    }

    /// The urgent-help callout's context, for the landing and thank-you pages (the step pages add it themselves
    /// where a question is sensitive).
    var urgentHelp: [String: Any] { UrgentHelp.context(contactText: services.configuration.contactText) }

    /// The link's own path ("/a/TOKEN") within a page's path ("/a/TOKEN/s/1"). Scanned, not split into an array:
    /// every page view asks.
    func base(_ request: Request) -> String {
        let path = request.uri.path
        guard path.hasPrefix("/a/"), let end = path.utf8.dropFirst(3).firstIndex(of: UInt8(ascii: "/")) else { return path }
        return String(path[..<end])
    }

    static func language(_ request: Request) -> Language? {
        request.uri.queryParameters.get("lang").flatMap { Language(rawValue: $0) }
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    static func csrfValue(_ request: Request) -> (value: String, isNew: Bool) {
        if let existing = request.cookies[csrfCookie]?.value, existing.count == 43 { return (existing, false) }
        return (Base64URL.encode(Array(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })), true)
    }

    /// The double-submit check: the form's `csrf` field must equal the cookie.
    static func csrfMatches(_ request: Request, _ given: String?) -> Bool {
        guard let cookie = request.cookies[csrfCookie]?.value, let given else { return false }
        return constantTimeEqual(cookie.utf8, given.utf8)
    }
}
