import Foundation

/// EQ-5D scoring for bulk rescoring, with the same output bytes as `ScoreReport`.
///
/// There are only (levels + 1)^dimensions answer patterns of the dimensions (3125 complete 5L states): the
/// output up to `"vas":` of each pattern is made once by the reference code (exact `Decimal` index,
/// `ScoreReport`, `JSONValue.serialized`) when it first occurs, and copied after that; the VAS text is
/// made the same way for each allowed value at start-up.
final class CompiledEQ5D {
    private let scoring: EQ5DScoring
    private let valueSet: ValueSet
    private let instrument: Instrument
    private let dimensionQuestions: [Int]
    private let vasQuestion: Int
    private let vasLowest: Int
    private let radix: Int
    private let patterns: FragmentTable
    /// VAS texts by value − `vasLowest`, then `null`, then `}` and a newline.
    private let vasTexts: FragmentTable
    private let vasCount: Int
    let maximumLineLength: Int

    static let patternLength = 1024

    init?(_ scoring: EQ5DScoring, valueSet: ValueSet, instrument: Instrument, questions: [Questionnaire.Item]) {
        let index = Dictionary(questions.enumerated().map { ($1.linkId, $0) }, uniquingKeysWith: { first, _ in first })
        let dimensions = scoring.dimensions.compactMap { index[$0] }
        guard dimensions.count == scoring.dimensions.count, Set(dimensions).count == dimensions.count,
            let vas = index[scoring.vasItem], !dimensions.contains(vas), scoring.levels.lowerBound == 1
        else { return nil }
        let radix = scoring.levels.upperBound + 1
        self.radix = radix
        var patternCount = 1
        for _ in dimensions {
            patternCount *= radix
            guard patternCount <= 1 << 20 else { return nil }
        }
        let vasItem = questions[vas]
        guard vasItem.type == .integer, let lowest = vasItem.minValue, let highest = vasItem.maxValue, lowest >= 0,
            highest >= lowest, highest - lowest < 1 << 16
        else { return nil }
        vasLowest = lowest
        let count = highest - lowest + 1
        vasCount = count
        let texts = FragmentTable(entries: count + 2, maximumLength: 64)
        for value in lowest...highest {
            guard texts.store(value - lowest, ExactNumber.text(Decimal(value)).utf8) else { return nil }
        }
        texts.store(count, "null".utf8)
        texts.store(count + 1, "}\n".utf8)
        vasTexts = texts
        self.scoring = scoring
        self.valueSet = valueSet
        self.instrument = instrument
        dimensionQuestions = dimensions
        vasQuestion = vas
        patterns = FragmentTable(entries: patternCount, maximumLength: CompiledEQ5D.patternLength)
        maximumLineLength = CompiledEQ5D.patternLength + 64 + 2
    }

    /// Writes the output line (with its newline) for the answers read by `AnswerScan`; nil when the
    /// reference output does not have the expected shape (the caller then uses the reference path).
    func write(_ answers: UnsafePointer<Int32>, to target: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8>? {
        var pattern = 0
        var place = 1
        for question in dimensionQuestions {
            let level = Int(answers[question])
            guard level < radix else { return nil }
            if level > 0 { pattern += level * place }
            place *= radix
        }
        if !patterns.has(pattern), !storePattern(pattern) { return nil }
        var out = patterns.write(pattern, to: target)
        let vas = Int(answers[vasQuestion])
        out = vasTexts.write(vas >= 0 ? vas - vasLowest : vasCount, to: out)
        return vasTexts.write(vasCount + 1, to: out)
    }

    /// Scores the pattern with the reference code (VAS unanswered) and keeps its output up to `"vas":`.
    private func storePattern(_ pattern: Int) -> Bool {
        var values: [String: Int] = [:]
        var rest = pattern
        for dimension in scoring.dimensions {
            if rest % radix > 0 { values[dimension] = rest % radix }
            rest /= radix
        }
        let score = scoring.score(Answers(instrument: instrument.id, checked: values), valueSet: valueSet)
        let text = ScoreReport.json(score, instrument: instrument).serialized
        let tail = "null}"
        guard text.hasSuffix("\"vas\":" + tail) else { return false }
        return patterns.store(pattern, text.utf8.dropLast(tail.utf8.count))
    }
}
