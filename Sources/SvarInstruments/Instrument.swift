import Foundation

/// One questionnaire Svar can send, render and score: the FHIR Questionnaire, its texts per language and
/// how it is scored.
public struct Instrument: Sendable {
    public enum Scoring: Sendable, Equatable {
        case scaleMeans(ScaleMeansScoring)
        case eq5d(EQ5DScoring)
        case indicators(IndicatorScoring)
    }

    public let questionnaire: Questionnaire
    public let texts: [Language: TextPack]
    public let scoring: Scoring
    /// Sensitive questions and the answers that raise a flag (`safety.json`; none when the file is absent).
    public let safety: [SafetyItem]
    /// How the clinicians' pages chart the scores (`charts.json`; none when the file is absent).
    public let charts: [ChartDefinition]
    /// Names, directions and decimals of the scores (`charts.json`).
    public let reading: ScoreReading
    /// The smallest changes that matter, with their sources (`mid.json`; none when the file is absent).
    public let importantDifferences: ImportantDifferences
    /// The questions in order and by linkId, built once: answers are checked on every submission and every batch row.
    let questions: [Questionnaire.Item]
    let questionsByLinkId: [String: Questionnaire.Item]

    public var id: String { questionnaire.id }

    public init(
        questionnaire: Questionnaire, texts: [Language: TextPack], scoring: Scoring, safety: [SafetyItem] = [],
        charts: [ChartDefinition] = [], reading: ScoreReading = ScoreReading(),
        importantDifferences: ImportantDifferences = ImportantDifferences()
    ) {
        self.questionnaire = questionnaire
        self.texts = texts
        self.scoring = scoring
        self.safety = safety
        self.charts = charts
        self.reading = reading
        self.importantDifferences = importantDifferences
        self.questions = questionnaire.questions
        self.questionsByLinkId = Dictionary(questions.map { ($0.linkId, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Value sets this instrument can be scored with (EQ-5D only).
    public var valueSets: [ValueSet] {
        if case .eq5d(let eq5d) = scoring { return eq5d.valueSets }
        return []
    }

    /// Scores checked answers. `valueSet` selects an EQ-5D value set (default: the instrument's default).
    public func score(_ answers: Answers, valueSet: String? = nil) throws(AnswerError) -> Score {
        switch scoring {
        case .scaleMeans(let scoring):
            try refuseValueSet(valueSet)
            return scoring.score(answers)
        case .indicators(let scoring):
            try refuseValueSet(valueSet)
            return scoring.score(answers)
        case .eq5d(let scoring):
            guard let set = scoring.valueSet(id: valueSet) else {
                let known = scoring.valueSets.map(\.id).joined(separator: ", ")
                throw AnswerError(field: "valueSet", reason: "'\(valueSet ?? "")' is not a value set of \(id) (known: \(known))")
            }
            return scoring.score(answers, valueSet: set)
        }
    }

    private func refuseValueSet(_ valueSet: String?) throws(AnswerError) {
        if let valueSet {
            throw AnswerError(field: "valueSet", reason: "\(id) has no value sets; '\(valueSet)' does not apply")
        }
    }
}
