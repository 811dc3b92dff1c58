import Crypto
import Foundation
import Hummingbird
import SvarDomain
import SvarInstruments
import SvarServices
import SvarStore

extension PatientController.LinkOpening {
    /// The calm page of a link that did not open (a session never lands here).
    var calmPage: Response {
        if case let .page(page) = self { return page }
        return Response(status: .internalServerError)
    }
}

/// The patient pages under `/a/{token}`: landing, steps, review, submit, thank you — server-rendered, no
/// JavaScript, CSRF-protected forms (double-submit cookie), and calm pages for every way a link can fail.
struct PatientController: Sendable {
    enum LinkOpening {
        case session(PatientAnswering.Session, Language)
        case page(Response)
    }

    let services: AppServices
    /// Failed link checks and wrong second-factor answers per client.
    let limiter: RecentFailures
    static let csrfCookie = "svar_csrf"

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("a/:token") { request, context in try await page(request, context) { s, l, c in landing(s, l, c, request) } }
        router.get("a/:token/s/:step") { request, context in
            try await page(request, context) { s, l, c in try step(s, l, c, request, context, problems: [:], form: nil) }
        }
        router.post("a/:token/s/:step") { request, context in try await saveStep(request, context) }
        router.get("a/:token/review") { request, context in try await page(request, context) { s, l, c in review(s, l, c, request) } }
        router.post("a/:token/submit") { request, context in try await submit(request, context) }
        router.get("a/:token/done") { request, context in try await done(request, context) }
        router.post("a/:token/verify") { request, context in try await verify(request, context) }
        router.get("tilgjengelighet") { request, _ in
            let language = Self.language(request) ?? .nb
            let csrf = Self.csrfValue(request)
            var response = services.pages.render("accessibility", language: language, title: services.pages.text("accessibilityHeading", language),
                                                 context: [:], languageURL: { "/tilgjengelighet?lang=\($0.rawValue)" }, csrf: csrf.value)
            if csrf.isNew { response.setCookie(cookie(csrf.value)) }
            return response
        }
    }

    // MARK: Opening a link

    func token(_ context: AppRequestContext) -> String { context.parameters.get("token") ?? "" }

    /// Opens the link: the session and language for a valid one, or the calm page that fits. The signature is
    /// checked first (no database, no limiter); only failures are counted, so a valid link always opens.
    func open(_ request: Request, _ context: AppRequestContext) async throws -> LinkOpening {
        let now = services.now()
        let csrf = Self.csrfValue(request)
        let language = Self.language(request)
        switch try await services.answering.open(token: token(context), now: now) {
        case let .ready(session):
            return .session(session, language ?? session.patientLanguage)
        case .invalid:
            if await limiter.record(context.clientKey(request, services.configuration), now: now) {
                return .page(message("tooMany", language ?? .nb, status: .tooManyRequests, request: request, csrf: csrf))
            }
            return .page(message("invalid", language ?? .nb, status: .notFound, request: request, csrf: csrf))
        case .expired, .closed:
            return .page(message("expired", language ?? .nb, status: .gone, request: request, csrf: csrf))
        case .answered:
            return .page(message("answered", language ?? .nb, status: .ok, request: request, csrf: csrf))
        }
    }

    /// Renders `body` for a valid link (marking the invitation opened), or the calm page that fits.
    func page(_ request: Request, _ context: AppRequestContext,
              _ body: (PatientAnswering.Session, Language, String) throws -> Response) async throws -> Response {
        let csrf = Self.csrfValue(request)
        var response: Response
        switch try await open(request, context) {
        case let .session(session, language):
            if let gate = try await factorGate(session, language, request, csrf: csrf.value) {
                response = gate
            } else {
                try await services.answering.markOpened(session, now: services.now())
                response = try body(session, language, csrf.value)
            }
        case let .page(page):
            response = page
        }
        if csrf.isNew { response.setCookie(cookie(csrf.value)) }
        return response
    }

    func message(_ kind: String, _ language: Language, status: HTTPResponse.Status, request: Request, csrf: (value: String, isNew: Bool)) -> Response {
        let pages = services.pages
        let heading = kind == "tooMany" ? pages.text("invalidHeading", language) : pages.text("\(kind)Heading", language)
        let body = kind == "tooMany" ? pages.text("lockedBody", language) : pages.text("\(kind)Body", language)
        return pages.render("message", language: language, title: heading, context: ["heading": heading, "body": body],
                            languageURL: { Self.url(request, language: $0) }, csrf: csrf.value, status: status)
    }

    // MARK: Pages

    func landing(_ session: PatientAnswering.Session, _ language: Language, _ csrf: String, _ request: Request) -> Response {
        let pages = services.pages
        let questions = session.steps.reduce(0) { $0 + $1.questions.count }
        return pages.render("landing", language: language, title: pages.text("landingHeading", language), context: [
            "heading": pages.text("landingHeading", language), "intro": pages.text("landingIntro", language),
            "startURL": "\(base(request))/s/1?lang=\(language.rawValue)",
            "instrumentCount": session.invitation.instruments.count, "minutes": max(5, questions / 4),
        ], languageURL: { Self.url(request, language: $0) }, csrf: csrf)
    }

    func stepNumber(_ context: AppRequestContext, _ session: PatientAnswering.Session) throws -> PatientAnswering.Step {
        guard let text = context.parameters.get("step"), let n = Int(text), let step = session.steps.first(where: { $0.number == n }) else {
            throw HTTPError(.notFound)
        }
        return step
    }

    func step(_ session: PatientAnswering.Session, _ language: Language, _ csrf: String, _ request: Request, _ context: AppRequestContext,
              problems: [String: String], form: [String: String]?) throws -> Response {
        let step = try stepNumber(context, session)
        let pages = services.pages
        let pack = step.instrument.texts[language] ?? step.instrument.texts[.nb]
        let draft = session.drafts[step.instrument.id] ?? [:]
        let questions: [[String: Any]] = step.questions.map { q in
            let text = pack?.items[q.linkId]
            let current = form.map { $0[q.linkId] ?? "" } ?? draft[q.linkId].map(String.init) ?? ""
            let inputId = "q-\(q.linkId)"
            var error = ""
            if let problem = problems[q.linkId] {
                switch problem {
                case "required": error = pages.text("errorRequired", language)
                case "range": error = "\(pages.text("errorRangeFrom", language)) \(q.minValue ?? 0) \(pages.text("errorRangeTo", language)) \(q.maxValue ?? 0)"
                default: error = pages.text("errorInvalid", language)
                }
            }
            var question: [String: Any] = [
                "linkId": q.linkId, "inputId": inputId, "text": text?.text ?? q.text ?? q.linkId,
                "required": q.isRequired, "hasError": !error.isEmpty, "error": error, "errorId": "\(inputId)-error",
                "isChoice": q.type == .choice, "isInteger": q.type == .integer, "value": current,
                "min": q.minValue ?? 0, "max": q.maxValue ?? 0, "hintId": "\(inputId)-hint",
                "options": (q.answerOption ?? []).map { option -> [String: Any] in
                    let code = option.valueCoding.code
                    return ["id": "\(inputId)-\(code)", "code": code, "label": text?.options?[code] ?? option.valueCoding.display ?? code,
                            "checked": current == code]
                },
            ]
            // swift-mustache treats an empty string as true: leave empty texts out altogether.
            for (key, value) in [("help", text?.help), ("minLabel", text?.minLabel), ("maxLabel", text?.maxLabel)] {
                if let value, !value.isEmpty { question[key] = value }
            }
            return question
        }
        let errors: [[String: Any]] = questions.compactMap { q in
            (q["hasError"] as? Bool) == true ? ["anchor": "#\(q["inputId"] ?? "")", "text": "\(q["text"] ?? ""): \(q["error"] ?? "")"] : nil
        }
        let groupText = pack?.items[step.group.linkId]?.text ?? step.group.text ?? ""
        let title = (pack?.title ?? step.instrument.questionnaire.title ?? "")
        var context: [String: Any] = [
            "action": "\(base(request))/s/\(step.number)?lang=\(language.rawValue)",
            "progressCurrent": step.number, "progressTotal": session.steps.count,
            "stepTitle": title, "hasErrors": !errors.isEmpty, "errors": errors, "questions": questions,
        ]
        if !groupText.isEmpty { context["stepIntro"] = groupText }
        if step.number > 1 { context["backURL"] = "\(base(request))/s/\(step.number - 1)?lang=\(language.rawValue)" }
        return pages.render("step", language: language, title: "\(title) – \(pages.text("progressStep", language)) \(step.number)",
                            context: context, languageURL: { Self.url(request, language: $0) }, csrf: csrf,
                            status: problems.isEmpty ? .ok : .unprocessableContent)
    }

    func review(_ session: PatientAnswering.Session, _ language: Language, _ csrf: String, _ request: Request) -> Response {
        let pages = services.pages
        var missingRequired: [[String: Any]] = []
        let sections: [[String: Any]] = session.steps.map { step in
            let pack = step.instrument.texts[language]
            let draft = session.drafts[step.instrument.id] ?? [:]
            let checked = Answers(instrument: step.instrument.id, checked: draft)
            let editURL = "\(base(request))/s/\(step.number)?lang=\(language.rawValue)"
            let answers: [[String: Any]] = step.questions.map { q in
                let question = pack?.items[q.linkId]?.text ?? q.text ?? q.linkId
                if q.isRequired, draft[q.linkId] == nil, step.instrument.isEnabled(q, checked) {
                    missingRequired.append(["text": question, "editURL": editURL])
                }
                guard let value = draft[q.linkId] else { return ["question": question, "answer": "", "missing": true] }
                let answer = q.type == .choice ? (pack?.items[q.linkId]?.options?[String(value)] ?? String(value)) : String(value)
                return ["question": question, "answer": answer, "missing": false]
            }
            return ["title": pack?.items[step.group.linkId]?.text ?? step.group.text ?? "", "editURL": editURL, "answers": answers]
        }
        return pages.render("review", language: language, title: pages.text("reviewHeading", language), context: [
            "heading": pages.text("reviewHeading", language), "sections": sections,
            "action": "\(base(request))/submit?lang=\(language.rawValue)",
            "hasMissingRequired": !missingRequired.isEmpty, "missingRequired": missingRequired,
        ], languageURL: { Self.url(request, language: $0) }, csrf: csrf)
    }

    // MARK: Forms

    func saveStep(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await Self.form(request)
        guard Self.csrfMatches(request, form) else { return forbidden(request) }
        let opening = try await open(request, context)
        guard case let .session(session, language) = opening else { return opening.calmPage }
        if let gate = try await factorGate(session, language, request, csrf: Self.csrfValue(request).value) { return gate }
        let step = try stepNumber(context, session)
        let problems = try await services.answering.save(session, step: step, form: form, language: language, now: services.now())
        if !problems.isEmpty {
            guard case let .session(updated, _) = try await open(request, context) else { return Self.redirect(base(request)) }
            return try self.step(updated, language, Self.csrfValue(request).value, request, context, problems: problems, form: form)
        }
        let next = step.number < session.steps.count ? "/s/\(step.number + 1)" : "/review"
        return Self.redirect("\(base(request))\(next)?lang=\(language.rawValue)")
    }

    func submit(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await Self.form(request)
        guard Self.csrfMatches(request, form) else { return forbidden(request) }
        switch try await open(request, context) {
        case let .page(page):
            // A second submission (double click, two devices) lands here once the first completed.
            if page.status == .ok { return Self.redirect("\(base(request))/done?lang=\((Self.language(request) ?? .nb).rawValue)") }
            return page
        case let .session(session, language):
            if let gate = try await factorGate(session, language, request, csrf: Self.csrfValue(request).value) { return gate }
            switch try await services.answering.submit(session, language: language, now: services.now()) {
            case .done, .alreadyAnswered:
                return Self.redirect("\(base(request))/done?lang=\(language.rawValue)")
            case let .missing(items):
                return Self.redirect("\(base(request))/s/\(items.first?.step ?? 1)?lang=\(language.rawValue)")
            }
        }
    }

    func done(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let language = Self.language(request) ?? .nb
        let csrf = Self.csrfValue(request)
        if case .answered = try await services.answering.open(token: token(context), now: services.now()) {
            let pages = services.pages
            return pages.render("thanks", language: language, title: pages.text("thanksHeading", language),
                                context: ["heading": pages.text("thanksHeading", language), "body": pages.text("thanksBody", language)],
                                languageURL: { Self.url(request, language: $0) }, csrf: csrf.value)
        }
        return try await page(request, context) { _, _, _ in Self.redirect(base(request)) }
    }

    // MARK: Second factor

    static let factorCookie = "svar_factor"

    /// Nil when no second factor is needed or this browser has passed it; otherwise the page to show
    /// (the question, or the locked page).
    func factorGate(_ session: PatientAnswering.Session, _ language: Language, _ request: Request, csrf: String,
                    error: Bool = false) async throws -> Response? {
        let answering = services.answering
        guard answering.secondFactor != .none else { return nil }
        let now = services.now()
        if let proof = request.cookies[Self.factorCookie]?.value,
           services.links.verifyFactorProof(proof, invitationId: session.invitation.id, now: now) {
            return nil
        }
        let pages = services.pages
        switch try await answering.factorState(session, now: now) {
        case .locked:
            return pages.render("message", language: language, title: pages.text("lockedHeading", language),
                                context: ["heading": pages.text("lockedHeading", language), "body": pages.text("lockedBody", language)],
                                languageURL: { Self.url(request, language: $0) }, csrf: csrf, status: .tooManyRequests)
        case .voided:
            return pages.render("message", language: language, title: pages.text("voidedHeading", language),
                                context: ["heading": pages.text("voidedHeading", language), "body": pages.text("voidedBody", language)],
                                languageURL: { Self.url(request, language: $0) }, csrf: csrf, status: .forbidden)
        case .open, .passed, .wrong:
            break
        }
        if answering.secondFactor == .code, !(try await answering.hasCurrentCode(session, now: now)) {
            try await answering.sendCode(session, now: now)
        }
        var context: [String: Any] = [
            "action": "\(base(request))/verify?lang=\(language.rawValue)",
            "isBirthDate": answering.secondFactor == .birthDate, "isCode": answering.secondFactor == .code,
            "hasError": error,
        ]
        if error { context["error"] = pages.text(answering.secondFactor == .code ? "errorCode" : "errorBirthDate", language) }
        return pages.render("secondfactor", language: language, title: pages.text("secondFactorHeading", language), context: context,
                            languageURL: { Self.url(request, language: $0) }, csrf: csrf, status: error ? .unprocessableContent : .ok)
    }

    func verify(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await Self.form(request)
        guard Self.csrfMatches(request, form) else { return forbidden(request) }
        let opening = try await open(request, context)
        guard case let .session(session, language) = opening else { return opening.calmPage }
        let now = services.now()
        let answering = services.answering
        let client = context.clientKey(request, services.configuration)
        // Wrong answers count against the client too: one client cannot grind through many invitations' factors.
        if answering.secondFactor != .none, await limiter.isBlocked(client, now: now) {
            return message("tooMany", language, status: .tooManyRequests, request: request, csrf: Self.csrfValue(request))
        }
        let check: FactorState
        switch answering.secondFactor {
        case .none: return Self.redirect("\(base(request))?lang=\(language.rawValue)")
        case .birthDate: check = try await answering.checkBirthDate(session, input: form["birthDate"] ?? "", now: now)
        case .code: check = try await answering.checkCode(session, input: form["code"] ?? "", now: now)
        }
        let csrf = Self.csrfValue(request).value
        switch check {
        case .passed:
            var response = Self.redirect("\(base(request))?lang=\(language.rawValue)")
            let until = now.addingTimeInterval(3600)
            response.setCookie(Cookie(name: Self.factorCookie, value: services.links.factorProof(invitationId: session.invitation.id, until: until),
                                      maxAge: 3600, path: base(request), secure: services.configuration.publicURL.hasPrefix("https:"),
                                      httpOnly: true, sameSite: .strict))
            return response
        case .wrong:
            await limiter.record(client, now: now)
            return try await factorGate(session, language, request, csrf: csrf, error: true) ?? Self.redirect(base(request))
        case .locked, .voided, .open:
            await limiter.record(client, now: now)
            return try await factorGate(session, language, request, csrf: csrf) ?? Self.redirect(base(request))
        }
    }

    func forbidden(_ request: Request) -> Response {
        let language = Self.language(request) ?? .nb
        let pages = services.pages
        return pages.render("message", language: language, title: pages.text("csrfHeading", language),
                            context: ["heading": pages.text("csrfHeading", language), "body": pages.text("csrfBody", language)],
                            languageURL: { Self.url(request, language: $0) }, csrf: Self.csrfValue(request).value, status: .forbidden)
    }

    // MARK: Helpers

    func base(_ request: Request) -> String {
        let path = request.uri.path
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        return parts.count >= 2 ? "/a/\(parts[1])" : path
    }

    static func url(_ request: Request, language: Language) -> String { "\(request.uri.path)?lang=\(language.rawValue)" }

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

    func cookie(_ value: String) -> Cookie {
        Cookie(name: Self.csrfCookie, value: value, path: "/", secure: services.configuration.publicURL.hasPrefix("https:"),
               httpOnly: true, sameSite: .strict)
    }

    static func csrfMatches(_ request: Request, _ form: [String: String]) -> Bool {
        guard let cookie = request.cookies[csrfCookie]?.value, let given = form["csrf"] else { return false }
        return constantTimeEqual(cookie.utf8, given.utf8)
    }

    /// Parses an `application/x-www-form-urlencoded` body (at most 64 KiB).
    static func form(_ request: Request) async throws -> [String: String] {
        let buffer = try await request.body.collect(upTo: 64 * 1024)
        let text = String(buffer: buffer)
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            guard let key = parts.first else { continue }
            fields[decode(key)] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }
}
