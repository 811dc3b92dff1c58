import Foundation
import Hummingbird
import SvarDomain
import SvarInstruments
import SvarServices

/// The step pages (one group of questions each, with the answers so far or as just posted) and the review page.
extension PatientController {
    func stepNumber(_ context: AppRequestContext, _ session: PatientAnswering.Session) throws -> PatientAnswering.Step {
        guard let text = context.parameters.get("step"), let n = Int(text), let step = session.steps.first(where: { $0.number == n }) else {
            throw HTTPError(.notFound)
        }
        return step
    }

    /// The query a step's URLs carry when the patient came from the review.
    static let returnQuery = "&return=review"

    static func returnsToReview(_ request: Request) -> Bool { request.uri.queryParameters.get("return") == "review" }

    func step(
        _ session: PatientAnswering.Session, _ language: Language, _ csrf: String, _ request: Request, _ context: AppRequestContext,
        problems: [String: AnswerProblem], form: [String: String]?
    ) throws -> Response {
        let step = try stepNumber(context, session)
        let draft = session.drafts[step.instrument.id] ?? [:]
        let shown: (String) -> String = { linkId in form.map { $0[linkId] ?? "" } ?? draft[linkId].map(String.init) ?? "" }
        let base = base(request)
        let returning = Self.returnsToReview(request)
        let values = StepPageValues(
            csrf: csrf, action: language.url("\(base)/s/\(step.number)") + (returning ? Self.returnQuery : ""),
            hasBack: step.number > 1, returnToReview: returning, languageURL: { $0.url(request.uri.path) },
            value: shown, checked: { shown($0) == $1 ? " checked" : "" })
        // The common case, a page shown with the answers so far, is filled into the step's skeleton.
        return stepPages.page(step, of: session.steps.count, language, values, problems: problems, fromSkeleton: form == nil)
    }

    func reviewPage(_ session: PatientAnswering.Session, _ language: Language, _ csrf: String, _ request: Request) -> Response {
        let pages = services.pages
        var missingRequired: [[String: Any]] = []
        let sections: [[String: Any]] = session.steps.map { step in
            let pack = step.instrument.texts[language]
            let draft = session.drafts[step.instrument.id] ?? [:]
            let checked = Answers(instrument: step.instrument.id, checked: draft)
            // "Change" comes back here once the step is saved (`return=review`), not through every later step.
            let editURL = language.url("\(base(request))/s/\(step.number)") + Self.returnQuery
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
        return pages.render(
            "review", language: language, title: pages.text("reviewHeading", language),
            context: [
                "heading": pages.text("reviewHeading", language), "sections": sections,
                "action": language.url("\(base(request))/submit"),
                "hasMissingRequired": !missingRequired.isEmpty, "missingRequired": missingRequired,
            ], languageURL: { $0.url(request.uri.path) }, csrf: csrf)
    }
}
