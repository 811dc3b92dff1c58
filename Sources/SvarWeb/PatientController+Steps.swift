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

    func step(
        _ session: PatientAnswering.Session, _ language: Language, _ csrf: String, _ request: Request, _ context: AppRequestContext,
        problems: [String: String], form: [String: String]?
    ) throws -> Response {
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
                case "range":
                    error =
                        "\(pages.text("errorRangeFrom", language)) \(q.minValue ?? 0) \(pages.text("errorRangeTo", language)) "
                        + "\(q.maxValue ?? 0)"
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
                    return [
                        "id": "\(inputId)-\(code)", "code": code, "label": text?.options?[code] ?? option.valueCoding.display ?? code,
                        "checked": current == code,
                    ]
                },
            ]
            // swift-mustache treats an empty string as true: leave empty texts out altogether.
            for (key, value) in [("help", text?.help), ("minLabel", text?.minLabel), ("maxLabel", text?.maxLabel)] {
                if let value, !value.isEmpty { question[key] = value }
            }
            return question
        }
        let errors: [[String: Any]] = questions.compactMap { q in
            (q["hasError"] as? Bool) == true
                ? ["anchor": "#\(q["inputId"] ?? "")", "text": "\(q["text"] ?? ""): \(q["error"] ?? "")"] : nil
        }
        let groupText = pack?.items[step.group.linkId]?.text ?? step.group.text ?? ""
        let title = (pack?.title ?? step.instrument.questionnaire.title ?? "")
        var context: [String: Any] = [
            "action": language.url("\(base(request))/s/\(step.number)"),
            "progressCurrent": step.number, "progressTotal": session.steps.count,
            "stepTitle": title, "hasErrors": !errors.isEmpty, "errors": errors, "questions": questions,
        ]
        if !groupText.isEmpty { context["stepIntro"] = groupText }
        if step.number > 1 { context["backURL"] = language.url("\(base(request))/s/\(step.number - 1)") }
        return pages.render(
            "step", language: language, title: "\(title) – \(pages.text("progressStep", language)) \(step.number)",
            context: context, languageURL: { $0.url(request.uri.path) }, csrf: csrf,
            status: problems.isEmpty ? .ok : .unprocessableContent)
    }

    func reviewPage(_ session: PatientAnswering.Session, _ language: Language, _ csrf: String, _ request: Request) -> Response {
        let pages = services.pages
        var missingRequired: [[String: Any]] = []
        let sections: [[String: Any]] = session.steps.map { step in
            let pack = step.instrument.texts[language]
            let draft = session.drafts[step.instrument.id] ?? [:]
            let checked = Answers(instrument: step.instrument.id, checked: draft)
            let editURL = language.url("\(base(request))/s/\(step.number)")
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
