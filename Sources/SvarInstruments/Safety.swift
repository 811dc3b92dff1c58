import Foundation

/// Answers someone at the clinic should see soon (an overdose, injecting, severe anxiety or depression), as
/// data in each instrument's optional `safety.json`. The patient's pages say on every step that holds such an
/// item that answers are not read as they arrive and where to get help now; the clinicians' pages flag an
/// answer that matches.
public struct SafetyFile: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        /// The question's `linkId`.
        public var item: String
        /// The answer codes that raise a flag.
        public var flagAnswers: [String]
        /// What the flag says to a clinician, per language (`nb`, `nn`, `en`).
        public var label: [String: String]
    }

    /// Who judged these items sensitive, and on what grounds.
    public var source: String
    public var items: [Entry]
}

/// One sensitive question and the answers to it that raise a flag.
public struct SafetyItem: Sendable, Equatable {
    public let item: String
    public let flagAnswers: Set<Int>
    public let label: [Language: String]

    public func label(_ language: Language) -> String { label[language] ?? label[.nb] ?? item }
}

extension SafetyFile {
    /// Checks the file against the questionnaire: each item is a choice question, each code one of its
    /// answers, and every language has a label.
    func safetyItems(for questionnaire: Questionnaire) throws(DefinitionError) -> [SafetyItem] {
        var seen = Set<String>()
        return try items.enumerated().map { (i, entry) throws(DefinitionError) -> SafetyItem in
            let field = "items[\(i)]"
            guard seen.insert(entry.item).inserted else {
                throw DefinitionError(field: "\(field).item", reason: "'\(entry.item)' is listed twice")
            }
            guard let question = questionnaire.item(linkId: entry.item), question.type == .choice else {
                throw DefinitionError(field: "\(field).item", reason: "'\(entry.item)' is not a choice question of \(questionnaire.id)")
            }
            guard !entry.flagAnswers.isEmpty else {
                throw DefinitionError(field: "\(field).flagAnswers", reason: "name at least one answer code")
            }
            var codes = Set<Int>()
            for (j, code) in entry.flagAnswers.enumerated() {
                guard question.optionCodes.contains(code), let number = Int(code) else {
                    throw DefinitionError(
                        field: "\(field).flagAnswers[\(j)]",
                        reason: "'\(code)' is not an answer of \(entry.item) (\(question.optionCodes.joined(separator: ", ")))")
                }
                codes.insert(number)
            }
            var labels: [Language: String] = [:]
            for language in InstrumentDefinition.requiredLanguages {
                guard let text = entry.label[language.rawValue], !text.isEmpty else {
                    throw DefinitionError(field: "\(field).label.\(language.rawValue)", reason: "the label is missing")
                }
                labels[language] = text
            }
            return SafetyItem(item: entry.item, flagAnswers: codes, label: labels)
        }
    }
}

extension Instrument {
    /// Whether a question is one the patient's pages give the safety message for.
    public func isSensitive(_ linkId: String) -> Bool { safety.contains { $0.item == linkId } }

    /// The sensitive questions whose answer raises a flag, in the file's order.
    public func safetyFlags(_ answers: Answers) -> [SafetyItem] {
        safety.filter { item in answers[item.item].map(item.flagAnswers.contains) ?? false }
    }
}
