import Foundation
import Hummingbird
import SvarDomain
import SvarServices

/// The landing page's start form: who is filling in the questionnaire (the patient, with help, or someone for
/// them), saved before the first step and stored with the response.
struct StartForm: Decodable {
    var csrf: String?
    var respondent: String?
}

extension PatientController {
    func start(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.read(StartForm.self, from: request)
        guard Self.csrfMatches(request, form.csrf) else { return forbidden(request) }
        let opening = try await open(request, context)
        guard case .session(let session, let language) = opening else { return calmPage(opening, request) }
        let csrf = Self.csrfValue(request).value
        if let gate = try await factorGate(session, language, request, csrf: csrf) { return gate }
        guard let respondent = form.respondent.flatMap(Respondent.init(rawValue:)), respondent != .notStated else {
            return landingPage(
                session, language, csrf, request, problem: services.pages.text("respondentMissing", language),
                status: .unprocessableContent)
        }
        try await services.answering.saveRespondent(session, respondent, language: language, now: services.now())
        // Continue where the patient stopped: the first unanswered step, or the review when all is answered.
        let target = !session.hasDraft ? "s/1" : session.resumeStep.map { "s/\($0)" } ?? "review"
        return Self.redirect(language.url("\(base(request))/\(target)"))
    }
}
