/// Answers to one instrument, checked against its Questionnaire: every key is a question of the
/// instrument and every value is one of its codes (or within its range). Unanswered items are absent.
public struct Answers: Sendable, Equatable {
    public let instrument: String
    public let values: [String: Int]

    public subscript(linkId: String) -> Int? { values[linkId] }

    public init(instrument: String, checked values: [String: Int]) {
        self.instrument = instrument
        self.values = values
    }
}

/// Why an answer was refused. `field` is the item's linkId (or `$` for the whole input), so API callers and
/// the CLI can name it.
public struct AnswerError: Error, Sendable, Equatable, CustomStringConvertible {
    public let field: String
    public let reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { field == "$" ? reason : "\(field): \(reason)" }
}

extension Instrument {
    /// Checks raw answers (a JSON object `{"linkId": code, …}`) and returns them as `Answers`.
    ///
    /// A missing key or `null` means "not answered". Anything else that is not a valid code of that item
    /// is refused with an error naming the item; nothing is guessed or clamped.
    public func checkAnswers(_ json: JSONValue) throws(AnswerError) -> Answers {
        guard case .object(let members) = json else {
            throw AnswerError(field: "$", reason: "expected a JSON object of answers, found \(json.kindDescription)")
        }
        var values: [String: Int] = [:]
        for (linkId, raw) in members {
            guard let item = questionsByLinkId[linkId] else {
                throw AnswerError(field: linkId, reason: "is not a question of \(id)")
            }
            if raw == .null { continue }
            guard let value = raw.integerValue else {
                if case .number = raw, ExactNumber.isIntegral(raw) {
                    throw AnswerError(field: linkId, reason: "\(raw.kindDescription) is far outside the allowed answers")
                }
                throw AnswerError(field: linkId, reason: "expected a whole number, found \(raw.kindDescription)")
            }
            try item.check(value, instrument: id)
            values[linkId] = value
        }
        return Answers(instrument: id, checked: values)
    }

    /// Required questions (that are enabled by the given answers) which have no answer.
    public func missingRequired(_ answers: Answers) -> [String] {
        questions.filter { $0.isRequired && answers[$0.linkId] == nil && isEnabled($0, answers) }.map(\.linkId)
    }

    /// The answers without those to questions that do not apply (their `enableWhen` is false): pages without
    /// JavaScript show every question, and an answer to one that does not apply must not be stored or sent.
    /// Repeated until nothing changes, as a dropped answer can disable further questions.
    public func applicable(_ answers: Answers) -> Answers {
        var current = answers
        while true {
            let kept = current.values.filter { linkId, _ in questionsByLinkId[linkId].map { isEnabled($0, current) } ?? false }
            if kept.count == current.values.count { return current }
            current = Answers(instrument: answers.instrument, checked: kept)
        }
    }

    /// Whether `item` is shown, following its `enableWhen` conditions (FHIR semantics, `all` by default).
    public func isEnabled(_ item: Questionnaire.Item, _ answers: Answers) -> Bool {
        guard let conditions = item.enableWhen, !conditions.isEmpty else { return true }
        let results = conditions.map { condition -> Bool in
            let answer = answers[condition.question]
            if condition.operator == "exists" { return (answer != nil) == (condition.answerBoolean ?? true) }
            guard let answer else { return false }
            let expected = condition.answerInteger ?? condition.answerCoding.flatMap { Int($0.code) }
            guard let expected else { return false }
            switch condition.operator {
            case "=": return answer == expected
            case "!=": return answer != expected
            case ">": return answer > expected
            case "<": return answer < expected
            case ">=": return answer >= expected
            case "<=": return answer <= expected
            default: return false
            }
        }
        return item.enableBehavior == "any" ? results.contains(true) : !results.contains(false)
    }
}

extension Questionnaire.Item {
    func check(_ value: Int, instrument: String) throws(AnswerError) {
        switch type {
        case .choice:
            let codes = optionCodes
            guard codes.contains(String(value)) else {
                var reason = "\(value) is not an answer code of \(instrument) (allowed: \(codes.joined(separator: ", ")))"
                if instrument.hasSuffix("-3l"), value == 4 || value == 5 {
                    reason += "; EQ-5D-3L has levels 1–3 — is this EQ-5D-5L data?"
                }
                throw AnswerError(field: linkId, reason: reason)
            }
        case .integer:
            let low = minValue ?? Int.min
            let high = maxValue ?? Int.max
            guard value >= low, value <= high else {
                throw AnswerError(field: linkId, reason: "\(value) is outside the allowed range \(low)–\(high)")
            }
        default:
            throw AnswerError(field: linkId, reason: "items of type \(type.rawValue) cannot be answered here")
        }
    }
}
