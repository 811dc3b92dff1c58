import Foundation
import Hummingbird
import SvarDomain
import SvarInstruments
import SvarServices
import SvarStore

/// The second-factor answer (birth date or one-time code, whichever the protocol asks).
struct FactorForm: Decodable {
    var csrf: String?
    var birthDate: String?
    var code: String?
}

/// The patient's forms (save a step, submit, answer the second factor) and the second-factor gate. Each opens
/// its link once, after the CSRF check.
extension PatientController {
    func saveStep(_ request: Request, context: AppRequestContext) async throws -> Response {
        // The answer form's field names are the instrument's item ids (dynamic keys), so it is decoded into a
        // dictionary rather than a struct; `csrf` is the one fixed field.
        let form = try await FormBody.read([String: String].self, from: request)
        guard Self.csrfMatches(request, form["csrf"]) else { return forbidden(request) }
        let opening = try await open(request, context)
        guard case .session(let session, let language) = opening else { return calmPage(opening, request) }
        let csrf = Self.csrfValue(request).value
        if let gate = try await factorGate(session, language, request, csrf: csrf) { return gate }
        let step = try stepNumber(context, session)
        // The language switch posts the step with the language chosen; the answers are saved in either case.
        let switched = form["switchLanguage"].flatMap { Language(rawValue: $0) }
        let shown = switched ?? language
        let problems = try await services.answering.save(session, step: step, form: form, language: shown, now: services.now())
        let returning = Self.returnsToReview(request) ? Self.returnQuery : ""
        if switched != nil || form["navigate"] == "back" {
            // Neither needs a complete page: what is valid is saved, an unanswered question waits. Only an answer
            // that could not be read is shown again (in the language now chosen), so nothing typed is lost.
            let unreadable = problems.filter { $0.value != .required }
            if switched != nil, !unreadable.isEmpty {
                return try self.step(session, shown, csrf, request, context, problems: unreadable, form: form)
            }
            let target = switched != nil ? step.number : max(1, step.number - 1)
            return Self.redirect(shown.url("\(base(request))/s/\(target)") + returning)
        }
        if !problems.isEmpty {
            // The page shows the answers as posted, so the session opened above serves (no second opening).
            return try self.step(session, language, csrf, request, context, problems: problems, form: form)
        }
        let next = returning.isEmpty && step.number < session.steps.count ? "/s/\(step.number + 1)" : "/review"
        return Self.redirect(language.url("\(base(request))\(next)"))
    }

    func submit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.read(CSRFForm.self, from: request)
        guard Self.csrfMatches(request, form.csrf) else { return forbidden(request) }
        switch try await open(request, context) {
        case .answered(let language):
            // A second submission (double click, two devices) lands here once the first completed.
            return Self.redirect(language.url("\(base(request))/done"))
        case .page(let page):
            return page
        case .session(let session, let language):
            if let gate = try await factorGate(session, language, request, csrf: Self.csrfValue(request).value) { return gate }
            switch try await services.answering.submit(session, language: language, now: services.now()) {
            case .done:
                return withFeedbackCookie(Self.redirect(language.url("\(base(request))/done")), session, request)
            case .alreadyAnswered:
                return Self.redirect(language.url("\(base(request))/done"))
            case .missing(let items):
                return Self.redirect(language.url("\(base(request))/s/\(items.first?.step ?? 1)"))
            }
        }
    }

    /// Nil when no second factor is needed or this browser has passed it; otherwise the page to show
    /// (the question, or the locked page).
    func factorGate(
        _ session: PatientAnswering.Session, _ language: Language, _ request: Request, csrf: String,
        error: Bool = false
    ) async throws -> Response? {
        let answering = services.answering
        guard answering.secondFactor != .none else { return nil }
        let now = services.now()
        if let proof = request.cookies[Self.factorCookie]?.value,
            services.links.verifyFactorProof(proof, invitationId: session.invitation.id, now: now)
        {
            return nil
        }
        let pages = services.pages
        switch try await answering.factorState(session, now: now) {
        case .locked:
            return pages.render(
                "message", language: language, title: pages.text("lockedHeading", language),
                context: ["heading": pages.text("lockedHeading", language), "body": pages.text("lockedBody", language)],
                languageURL: { $0.url(request.uri.path) }, csrf: csrf, status: .tooManyRequests)
        case .voided:
            return pages.render(
                "message", language: language, title: pages.text("voidedHeading", language),
                context: ["heading": pages.text("voidedHeading", language), "body": pages.text("voidedBody", language)],
                languageURL: { $0.url(request.uri.path) }, csrf: csrf, status: .forbidden)
        case .open, .passed, .wrong:
            break
        }
        if answering.secondFactor == .code, !(try await answering.hasCurrentCode(session, now: now)) {
            try await answering.sendCode(session, now: now)
        }
        var context: [String: Any] = [
            "action": language.url("\(base(request))/verify"),
            "isBirthDate": answering.secondFactor == .birthDate, "isCode": answering.secondFactor == .code,
            "hasError": error,
        ]
        if error { context["error"] = pages.text(answering.secondFactor == .code ? "errorCode" : "errorBirthDate", language) }
        return pages.render(
            "secondfactor", language: language, title: pages.text("secondFactorHeading", language), context: context,
            languageURL: { $0.url(request.uri.path) }, csrf: csrf, status: error ? .unprocessableContent : .ok)
    }

    func verify(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.read(FactorForm.self, from: request)
        guard Self.csrfMatches(request, form.csrf) else { return forbidden(request) }
        let opening = try await open(request, context)
        guard case .session(let session, let language) = opening else { return calmPage(opening, request) }
        let now = services.now()
        let answering = services.answering
        let client = context.clientKey(request, services.configuration)
        let csrf = Self.csrfValue(request).value
        // Wrong answers count against the client too: one client cannot grind through many invitations' factors.
        if answering.secondFactor != .none, await limiter.isBlocked(client, now: now) {
            return message("tooMany", language, status: .tooManyRequests, request: request, csrf: csrf)
        }
        let check: FactorState
        switch answering.secondFactor {
        case .none: return Self.redirect(language.url(base(request)))
        case .birthDate: check = try await answering.checkBirthDate(session, input: form.birthDate ?? "", now: now)
        case .code: check = try await answering.checkCode(session, input: form.code ?? "", now: now)
        }
        switch check {
        case .passed:
            var response = Self.redirect(language.url(base(request)))
            let proof = services.links.factorProof(invitationId: session.invitation.id, until: now.addingTimeInterval(3600))
            response.setCookie(services.cookies.make(Self.factorCookie, proof, maxAge: 3600, path: base(request)))
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
        return pages.render(
            "message", language: language, title: pages.text("csrfHeading", language),
            context: ["heading": pages.text("csrfHeading", language), "body": pages.text("csrfBody", language)],
            languageURL: { $0.url(request.uri.path) }, csrf: Self.csrfValue(request).value, status: .forbidden)
    }
}
