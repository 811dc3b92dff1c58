import Foundation
import Hummingbird
import SvarDomain
import SvarInstruments
import SvarServices
import SvarStore

/// The confirming form's fields: `bekreft=ja` is the patient's second, deliberate step.
struct RightsForm: Decodable {
    var csrf: String?
    var bekreft: String?
}

/// The patient's rights (forskrift om medisinske kvalitetsregistre § 3-5): the page about the registry, open to
/// anyone without a link, and from the landing page the two ways to say no — decline this one questionnaire,
/// or reserve (never be asked again). Each way is a POST from the landing page that shows a confirmation page
/// saying what it means; only the confirmation's own POST (`bekreft=ja`) acts, so one stray tap changes nothing.
/// After it, the patient is sent to a calm page that needs no link (the link is closed by then).
extension PatientController {
    /// What the patient can choose on the landing page.
    enum Refusal: String {
        case decline = "avsla"
        case reserve = "reserver"

        /// The calm page shown afterwards (no link needed: the link no longer opens).
        var donePath: String { self == .decline ? "/avslatt" : "/reservert" }
        var textPrefix: String { self == .decline ? "decline" : "reserve" }
    }

    func addRightsRoutes(to router: Router<AppRequestContext>) {
        router.get("rettigheter", use: rights)
        for refusal in [Refusal.decline, .reserve] {
            let path = RouterPath("a/:token/\(refusal.rawValue)")
            router.get(path) { request, context in try await self.confirmRefusal(refusal, request, context) }
            router.post(path) { request, context in try await self.refuse(refusal, request, context) }
            router.get(RouterPath(refusal.donePath)) { request, _ in self.refused(refusal, request) }
        }
    }

    /// The landing page's part: its two forms and the rights page's link.
    func rightsContext(_ request: Request, _ language: Language) -> [String: Any] {
        [
            "declineURL": language.url("\(base(request))/\(Refusal.decline.rawValue)"),
            "reserveURL": language.url("\(base(request))/\(Refusal.reserve.rawValue)"),
            "rightsURL": Self.rightsURL(language, back: language.url(request.uri.path)),
        ]
    }

    /// The rights page in `language`, with a way back to `back` (a page of this site).
    static func rightsURL(_ language: Language, back: String? = nil) -> String {
        language.url("/rettigheter") + (back.map { "&fra=\($0)" } ?? "")
    }

    // MARK: The rights page

    func rights(_ request: Request, context: AppRequestContext) -> Response {
        let language = Self.language(request) ?? .nb
        let csrf = Self.csrfValue(request)
        let pages = services.pages
        let back = Self.localPage(request.uri.queryParameters.get("fra").map { String($0) })
        let registry = services.configuration.registry
        var values: [String: Any] = [:]
        // Only what the operator set is shown as theirs; the template says plainly what was not filled in.
        for (key, text) in [
            ("registryName", registry.name), ("registryPurpose", registry.purpose), ("dataController", registry.dataController),
            ("registryContact", registry.contact), ("retention", registry.retention), ("collected", registry.collected),
        ] {
            if let text { values[key] = text }
        }
        if let back { values["backURL"] = back }
        var response = pages.render(
            "rights", language: language, title: pages.text("rightsHeading", language), context: values,
            languageURL: { Self.rightsURL($0, back: back) }, csrf: csrf.value)
        if csrf.isNew { response.setCookie(services.cookies.make(Self.csrfCookie, csrf.value)) }
        return response
    }

    // MARK: Declining and reserving

    /// The confirmation page (also what the landing page's POST without `bekreft` answers).
    func confirmRefusal(_ refusal: Refusal, _ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await page(request, context) { _, language, csrf in confirmation(refusal, language, csrf, request) }
    }

    func confirmation(_ refusal: Refusal, _ language: Language, _ csrf: String, _ request: Request) -> Response {
        let pages = services.pages
        let prefix = refusal.textPrefix
        return pages.render(
            "refusal-confirm", language: language, title: pages.text("\(prefix)ConfirmHeading", language),
            context: [
                "heading": pages.text("\(prefix)ConfirmHeading", language),
                "paragraphs": [1, 2, 3].compactMap { n -> String? in
                    let key = "\(prefix)ConfirmBody\(n)"
                    let text = pages.text(key, language)
                    return text == key ? nil : text
                },
                "action": language.url("\(base(request))/\(refusal.rawValue)"),
                "confirmLabel": pages.text("\(prefix)ConfirmButton", language),
                "backURL": language.url(base(request)), "backLabel": pages.text("refusalBackLink", language),
                "rightsURL": Self.rightsURL(language, back: language.url(request.uri.path)),
            ], languageURL: { $0.url(request.uri.path) }, csrf: csrf)
    }

    /// The landing page's POST (shows the confirmation) and the confirmation's POST (acts, then the calm page).
    func refuse(_ refusal: Refusal, _ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.read(RightsForm.self, from: request)
        guard Self.csrfMatches(request, form.csrf) else { return forbidden(request) }
        let opening = try await open(request, context)
        guard case .session(let session, let language) = opening else { return calmPage(opening, request) }
        let csrf = Self.csrfValue(request).value
        // The same second factor as answering: a link alone must not reserve someone who is not its patient.
        if let gate = try await factorGate(session, language, request, csrf: csrf) { return gate }
        switch form.bekreft {
        case nil:
            return confirmation(refusal, language, csrf, request)
        case "ja":
            break
        default:
            return message("refusalBadRequest", language, status: .badRequest, request: request, csrf: csrf)
        }
        // A link used to say no has been opened (a scheduled invitation cannot be declined before it is).
        try await services.answering.markOpened(session, now: services.now())
        let access = Access(store: services.store)
        do {
            switch refusal {
            case .decline: try await access.decline(linkedInvitation: session, at: services.now())
            case .reserve: _ = try await access.reserve(linkedPatient: session, at: services.now())
            }
        } catch StoreError.conflict {
            // Answered or closed in another tab meanwhile: nothing was changed, and the link says where it stands.
            return calmPage(try await open(request, context), request)
        }
        return Self.redirect(language.url(refusal.donePath))
    }

    /// The calm page after declining or reserving: what happens now, and where to read more.
    func refused(_ refusal: Refusal, _ request: Request) -> Response {
        let language = Self.language(request) ?? .nb
        let csrf = Self.csrfValue(request)
        let pages = services.pages
        let prefix = refusal.textPrefix
        var response = pages.render(
            "refusal-done", language: language, title: pages.text("\(prefix)DoneHeading", language),
            context: [
                "heading": pages.text("\(prefix)DoneHeading", language), "body": pages.text("\(prefix)DoneBody", language),
                "rightsURL": Self.rightsURL(language, back: language.url(refusal.donePath)),
            ], languageURL: { $0.url(refusal.donePath) }, csrf: csrf.value)
        if csrf.isNew { response.setCookie(services.cookies.make(Self.csrfCookie, csrf.value)) }
        return response
    }
}
