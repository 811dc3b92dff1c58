import Foundation
import Hummingbird
import SvarInstruments
import SvarServices

/// A step page's per-request values: from the request, or a skeleton's markers.
struct StepPageValues {
    let csrf: String
    let action: String
    /// Whether the step has a previous one: "Back" is then a submit button that saves the draft first.
    let hasBack: Bool
    /// Whether the patient came from the review ("Change"): saving then returns there, and the button says so.
    var returnToReview = false
    let languageURL: (Language) -> String
    /// The answer shown in a question's input (by linkId).
    let value: (String) -> String
    /// " checked" for the chosen option of a question (linkId, code), else "".
    let checked: (String, String) -> String
}

/// The slots of a step page's skeleton.
enum StepSlot: Sendable {
    case csrf, action
    case language(Language)
    case value(String)
    case checked(String, String)
}

/// What a step's skeleton depends on. A struct, not an interpolated string: the key is made on every page view,
/// and interpolating the language enum went through `print`'s reflection (1 % of a page's CPU in the profile).
struct SkeletonKey: Hashable, Sendable {
    let instrument: String
    let version: String
    let group: String
    let step: Int
    let total: Int
    let language: Language
    let returnToReview: Bool
}

/// Renders step pages: through the Mustache template when there are problems to show, otherwise by filling
/// the step's skeleton (built once per step, step count and language from the same template).
struct StepPages: Sendable {
    let pages: PageRenderer
    /// The installation's line in the urgent-help callout (`SVAR_CONTACT_TEXT`), fixed for the life of the process.
    var contactText: String? = nil
    /// Skeletons by step, step count and language.
    let skeletons = Memo<SkeletonKey, PageSkeleton<StepSlot>>()

    func page(
        _ step: PatientAnswering.Step, of total: Int, _ language: Language, _ values: StepPageValues, problems: [String: AnswerProblem],
        fromSkeleton: Bool = true
    ) -> Response {
        if fromSkeleton, problems.isEmpty, let skeleton = skeleton(step, of: total, language, returnToReview: values.returnToReview) {
            let body = skeleton.fill { slot in
                switch slot {
                case .csrf: return values.csrf
                case .action: return values.action
                case .language(let other): return values.languageURL(other)
                case .value(let linkId): return values.value(linkId)
                case .checked(let linkId, let code): return values.checked(linkId, code)
                }
            }
            return pages.html(body, status: .ok)
        }
        let (context, title) = self.context(step, of: total, language, values, problems: problems)
        return pages.render(
            "step", language: language, title: title, context: context, languageURL: values.languageURL, csrf: values.csrf,
            status: problems.isEmpty ? .ok : .unprocessableContent)
    }

    /// The step's skeleton, built on first use; nil if the rendering does not split cleanly at its markers, or
    /// if the step draws a scale (its marker stands where the answer puts it, which a slot of text cannot say).
    func skeleton(
        _ step: PatientAnswering.Step, of total: Int, _ language: Language, returnToReview: Bool = false
    ) -> PageSkeleton<StepSlot>? {
        let instrument = step.instrument
        let key = SkeletonKey(
            instrument: instrument.id, version: instrument.questionnaire.version, group: step.group.linkId, step: step.number,
            total: total, language: language, returnToReview: returnToReview)
        return skeletons.value(key) {
            let pack = instrument.texts[language] ?? instrument.texts[.nb]
            guard !step.questions.contains(where: { scale($0, pack?.items[$0.linkId]) != nil }) else { return nil }
            let markers = PageSkeleton<StepSlot>.Markers()
            let values = StepPageValues(
                csrf: markers.marker(.csrf), action: markers.marker(.action), hasBack: step.number > 1, returnToReview: returnToReview,
                languageURL: { markers.marker(.language($0)) }, value: { markers.marker(.value($0)) },
                checked: { markers.marker(.checked($0, $1)) })
            let (context, title) = self.context(step, of: total, language, values, problems: [:])
            let text = pages.renderText(
                "step", language: language, title: title, context: context, languageURL: values.languageURL, csrf: values.csrf)
            return text.flatMap { PageSkeleton(rendered: $0, issued: markers) }
        }
    }

    /// The step page's Mustache context and title.
    func context(
        _ step: PatientAnswering.Step, of total: Int, _ language: Language, _ values: StepPageValues, problems: [String: AnswerProblem]
    ) -> (context: [String: Any], title: String) {
        let instrument = step.instrument
        let pack = instrument.texts[language] ?? instrument.texts[.nb]
        // A grid's time frame ("the past 4 weeks …") goes with each of its questions, so the question on screen
        // beside its answers is whole on a phone, where the grid's introduction has long scrolled away.
        let timeFrame = pack?.items[step.group.linkId]?.timeFrame
        let questions: [[String: Any]] = step.questions.map { q in
            let text = pack?.items[q.linkId]
            let inputId = "q-\(q.linkId)"
            let error = problems[q.linkId].map { self.error($0, q, typed: values.value(q.linkId), language) } ?? ""
            var question: [String: Any] = [
                "linkId": q.linkId, "inputId": inputId, "text": text?.text ?? q.text ?? q.linkId,
                "required": q.isRequired, "hasError": !error.isEmpty, "error": error, "errorId": "\(inputId)-error",
                "isChoice": q.type == .choice, "isInteger": q.type == .integer, "value": values.value(q.linkId),
                "min": q.minValue ?? 0, "max": q.maxValue ?? 0, "hintId": "\(inputId)-hint",
                "options": (q.answerOption ?? []).map { option -> [String: Any] in
                    let code = option.valueCoding.code
                    return [
                        "id": "\(inputId)-\(code)", "code": code, "label": text?.options?[code] ?? option.valueCoding.display ?? code,
                        "checkedAttribute": values.checked(q.linkId, code),
                    ]
                },
            ]
            // swift-mustache treats an empty string as true: leave empty texts out altogether.
            for (key, value) in [
                ("help", text?.help), ("minLabel", text?.minLabel), ("maxLabel", text?.maxLabel), ("timeFrame", timeFrame),
            ] {
                if let value, !value.isEmpty { question[key] = value }
            }
            if let scale = scale(q, text) {
                question["scale"] = scale.context(chosen: TypedAnswer(values.value(q.linkId)).value)
            }
            return question
        }
        let errors: [[String: Any]] = questions.compactMap { q in
            (q["hasError"] as? Bool) == true
                ? ["anchor": "#\(q["inputId"] ?? "")", "text": "\(q["text"] ?? ""): \(q["error"] ?? "")"] : nil
        }
        let groupText = pack?.items[step.group.linkId]?.text ?? step.group.text ?? ""
        let title = (pack?.title ?? instrument.questionnaire.title ?? "")
        var context: [String: Any] = [
            "action": values.action, "progressCurrent": step.number, "progressTotal": total,
            "stepTitle": title, "hasErrors": !errors.isEmpty, "errors": errors, "questions": questions,
        ]
        if !groupText.isEmpty { context["stepIntro"] = groupText }
        // The instrument's introduction opens its first step (and no other).
        if instrument.questionnaire.item.first(where: { $0.type == .group })?.linkId == step.group.linkId,
            let introduction = pack?.introduction, !introduction.isEmpty
        {
            context["instrumentIntro"] = introduction
        }
        if step.questions.contains(where: { instrument.isSensitive($0.linkId) }) {
            context.merge(UrgentHelp.context(contactText: contactText)) { _, new in new }
        }
        // Back and the language switch are submit buttons of the answer form, so what was typed is saved
        // before the page changes (no JavaScript needed); the header's language links would lose it.
        context["hasBack"] = values.hasBack
        context["returnToReview"] = values.returnToReview
        context["languageInForm"] = true
        return (context, "\(title) – \(pages.text("progressStep", language)) \(step.number)")
    }

    /// The scale drawn for a number question with words at both ends (the EQ VAS); nil for other questions.
    func scale(_ question: Questionnaire.Item, _ text: TextPack.ItemText?) -> ScaleDrawing? {
        guard question.type == .integer, let min = question.minValue, let max = question.maxValue,
            !(text?.minLabel ?? "").isEmpty, !(text?.maxLabel ?? "").isEmpty
        else { return nil }
        return ScaleDrawing(min: min, max: max)
    }

    /// A problem in the patient's words. A number question's message repeats what was typed (shortened if
    /// long), so the patient sees what Svar read and nothing is changed behind their back.
    func error(_ problem: AnswerProblem, _ question: Questionnaire.Item, typed: String, _ language: Language) -> String {
        let key: String
        switch problem {
        case .required: return pages.text("errorRequired", language)
        case .invalid: return pages.text("errorInvalid", language)
        case .notWhole: key = "errorNotWhole"
        case .range: key = "errorRange"
        }
        let shown = typed.count > 40 ? "\(typed.prefix(40))…" : typed
        // The typed text goes in last, so braces in it are never read as placeholders.
        return pages.text(key, language)
            .replacingOccurrences(of: "{min}", with: String(question.minValue ?? 0))
            .replacingOccurrences(of: "{max}", with: String(question.maxValue ?? 0))
            .replacingOccurrences(of: "{typed}", with: shown)
    }
}
