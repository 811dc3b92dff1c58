import Foundation

/// Scale-means scoring (RAND-36) for bulk rescoring, with the same output bytes as `ScoreReport`.
///
/// Recodes are decimals in the data; they are scaled by one power of ten to whole numbers, so a line's
/// scale sums are integer additions. The text of a mean is made by the reference code
/// (`ScaleMeansScoring.mean`, `ExactNumber.text`) the first time a (scale, answered, sum) occurs and copied
/// after that, so every number printed is the one the reference path prints.
final class CompiledScaleMeans {
    private struct Scale {
        let questions: [Int]
        let linkIds: [String]
        let halfRuleMinimum: Int
        let lowestSum: Int
        let sums: Int
    }

    private let scoring: ScaleMeansScoring
    private let scales: [Scale]
    /// recoded[recodeStart[question] + code]: the scaled recode, or `notRecoded`.
    private let recodeStart: UnsafeMutablePointer<Int>
    private let recodeLimit: UnsafeMutablePointer<Int>
    private let recoded: UnsafeMutablePointer<Int>
    /// Scratch: the answered count of each scale in the line being written.
    private let counts: UnsafeMutablePointer<Int>
    /// The scales' question positions one after the other; scale s has those from itemStart[s] to itemStart[s + 1].
    private let items: UnsafeMutablePointer<Int>
    private let itemStart: UnsafeMutablePointer<Int>
    private static let notRecoded = Int.min
    /// Per scale: the mean's text by (answered, sum).
    private let means: [FragmentTable]
    /// The fixed parts, in output order (see `write`).
    private let fixed: FragmentTable
    let maximumLineLength: Int

    init?(_ scoring: ScaleMeansScoring, questions: [Questionnaire.Item]) {
        let index = Dictionary(questions.enumerated().map { ($1.linkId, $0) }, uniquingKeysWith: { first, _ in first })
        var places: Int16 = 0
        for values in scoring.recode.values {
            for value in values.values where value.exponent < 0 { places = max(places, -Int16(value.exponent)) }
        }
        guard places <= 9 else { return nil }
        var recodeStart = [Int](repeating: 0, count: questions.count)
        var recodeLimit = [Int](repeating: 0, count: questions.count)
        var recoded: [Int] = []
        for (position, question) in questions.enumerated() {
            let values = scoring.recode[question.linkId] ?? [:]
            let limit = (values.keys.filter { $0 >= 0 }.max() ?? -1) + 1
            guard limit <= 1_000_000 else { return nil }
            recodeStart[position] = recoded.count
            recodeLimit[position] = limit
            var table = [Int](repeating: CompiledScaleMeans.notRecoded, count: limit)
            for (code, value) in values where code >= 0 {
                guard let whole = CompiledScaleMeans.scaled(value, places: places) else { return nil }
                table[code] = whole
            }
            recoded += table
        }
        var scales: [Scale] = []
        // `halfRuleMet` looks a scale up by id, so two scales with one id would not be scored per scale here.
        guard scoring.scales.allSatisfy({ $0.items.count < 100 }), Set(scoring.scales.map(\.id)).count == scoring.scales.count
        else { return nil }
        var means: [FragmentTable] = []
        for scale in scoring.scales {
            var positions: [Int] = []
            var lowest = 0
            var highest = 0
            for linkId in scale.items {
                guard let position = index[linkId] else { return nil }
                positions.append(position)
                let values = recoded[recodeStart[position]..<(recodeStart[position] + recodeLimit[position])]
                    .filter { $0 != CompiledScaleMeans.notRecoded }
                lowest += min(values.min() ?? 0, 0)
                highest += max(values.max() ?? 0, 0)
            }
            let sums = highest - lowest + 1
            guard sums * (positions.count + 1) <= 1 << 22 else { return nil }
            scales.append(
                Scale(questions: positions, linkIds: scale.items, halfRuleMinimum: scale.halfRuleMinimum, lowestSum: lowest, sums: sums))
            means.append(FragmentTable(entries: sums * (positions.count + 1), maximumLength: 64))
        }
        self.scoring = scoring
        self.scales = scales
        self.recodeStart = CompiledScaleMeans.copy(recodeStart)
        self.recodeLimit = CompiledScaleMeans.copy(recodeLimit)
        self.recoded = CompiledScaleMeans.copy(recoded)
        counts = CompiledScaleMeans.copy([Int](repeating: 0, count: scales.count))
        items = CompiledScaleMeans.copy(scales.flatMap(\.questions))
        var starts = [0]
        for scale in scales { starts.append(starts[starts.count - 1] + scale.questions.count) }
        itemStart = CompiledScaleMeans.copy(starts)
        self.means = means
        let fixedParts = CompiledScaleMeans.fixedParts(scoring.scales)
        fixed = fixedParts.table
        maximumLineLength = fixedParts.longestLine
    }

    deinit {
        recodeStart.deallocate()
        recodeLimit.deallocate()
        recoded.deallocate()
        counts.deallocate()
        items.deallocate()
        itemStart.deallocate()
    }

    private static func copy(_ values: [Int]) -> UnsafeMutablePointer<Int> {
        let copy = UnsafeMutablePointer<Int>.allocate(capacity: max(values.count, 1))
        copy.initialize(from: values, count: values.count)
        return copy
    }

    /// `value` × 10^places as a whole number, if exact and small.
    private static func scaled(_ value: Decimal, places: Int16) -> Int? {
        var scaled = value
        for _ in 0..<places { scaled *= 10 }
        guard ExactNumber.rounded(scaled, places: 0) == scaled, abs(scaled) < 1_000_000_000 else { return nil }
        let whole = NSDecimalNumber(decimal: scaled).intValue
        return Decimal(whole) == scaled ? whole : nil
    }

    /// Fixed output parts, k scales: k openers (`{"id":`, `,"id":`), `,"itemsAnswered":{`, k keys
    /// (`"id":`, `,"id":`), `},"halfRuleMet":{`, the same k keys, `}}` and a newline, then the texts `null`,
    /// `true`, `false` and the counts 0…99.
    private static func fixedParts(_ scales: [ScaleMeansScoring.Scale]) -> (table: FragmentTable, longestLine: Int) {
        func key(_ id: String, first: Bool) -> [UInt8] {
            var text = first ? "" : ","
            JSONValue.writeString(id, to: &text)
            return Array((text + ":").utf8)
        }
        var parts: [[UInt8]] = scales.enumerated().map { i, scale in (i == 0 ? [UInt8(ascii: "{")] : []) + key(scale.id, first: i == 0) }
        parts.append(Array(",\"itemsAnswered\":{".utf8))
        parts += scales.enumerated().map { i, scale in key(scale.id, first: i == 0) }
        parts.append(Array("},\"halfRuleMet\":{".utf8))
        parts += scales.enumerated().map { i, scale in key(scale.id, first: i == 0) }
        parts.append(Array("}}\n".utf8))
        parts += ["null", "true", "false"].map { Array($0.utf8) }
        parts += (0..<100).map { Array(String($0).utf8) }
        let table = FragmentTable(entries: parts.count, maximumLength: Int.max)
        for (i, part) in parts.enumerated() { table.store(i, part) }
        return (table, parts.map(\.count).reduce(0, +) + scales.count * 64)
    }

    /// Scores the answers read by `AnswerScan` and writes the output line (with its newline) at `target`;
    /// nil when a mean's text could not be stored (the caller then uses the reference path).
    func write(_ answers: UnsafePointer<Int32>, to target: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8>? {
        let k = scales.count
        let null = 3 * k + 3
        let countText = null + 3
        var out = target
        for s in 0..<k {
            var sum = 0
            var answered = 0
            for i in itemStart[s]..<itemStart[s + 1] {
                let question = items[i]
                let value = Int(answers[question])
                guard value >= 0, value < recodeLimit[question] else { continue }
                let recode = recoded[recodeStart[question] + value]
                guard recode != CompiledScaleMeans.notRecoded else { continue }
                sum += recode
                answered += 1
            }
            counts[s] = answered
            out = fixed.write(s, to: out)
            if answered == 0 {
                out = fixed.write(null, to: out)
                continue
            }
            let entry = answered * scales[s].sums + (sum - scales[s].lowestSum)
            if !means[s].has(entry), !storeMean(s, entry, answers) { return nil }
            out = means[s].write(entry, to: out)
        }
        out = fixed.write(k, to: out)
        for s in 0..<k {
            out = fixed.write(k + 1 + s, to: out)
            out = fixed.write(countText + counts[s], to: out)
        }
        out = fixed.write(2 * k + 1, to: out)
        for s in 0..<k {
            out = fixed.write(2 * k + 2 + s, to: out)
            out = fixed.write(counts[s] >= scales[s].halfRuleMinimum ? null + 1 : null + 2, to: out)
        }
        return fixed.write(3 * k + 2, to: out)
    }

    /// Makes the text of scale `s`'s mean for these answers with the reference code and stores it.
    private func storeMean(_ s: Int, _ entry: Int, _ answers: UnsafePointer<Int32>) -> Bool {
        var sum = Decimal(0)
        var answered = 0
        for (question, linkId) in zip(scales[s].questions, scales[s].linkIds) {
            let value = Int(answers[question])
            guard value >= 0, let recode = scoring.recode[linkId]?[value] else { continue }
            sum += recode
            answered += 1
        }
        guard let mean = ScaleMeansScoring.mean(sum, answered) else { return false }
        return means[s].store(entry, ExactNumber.text(mean).utf8)
    }
}
