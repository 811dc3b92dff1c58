import Foundation
import SvarInstruments
import Testing

/// The compiled batch scorer prints, byte for byte, what the reference path prints — for seeded random
/// responses of every shape (valid, missing items, odd spellings, errors) — and known exact values.
@Suite struct BatchScoringTests {
    @Test func rand36OutputIsByteIdenticalToTheReferencePath() throws {
        let rand36 = try instrument("rand36")
        try expectSameBytes(rand36, valueSet: nil, lines: 20_000, seed: 36)
    }

    @Test(arguments: bundledCatalogue.valueSets.map(\.valueSet.id))
    func eq5dOutputIsByteIdenticalToTheReferencePathForEveryValueSet(_ valueSet: String) throws {
        let eq5d = try instrument(try #require(owningInstrument(ofValueSet: valueSet)))
        try expectSameBytes(eq5d, valueSet: valueSet, lines: 4_000, seed: valueSet.utf8.reduce(7) { $0 &* 31 &+ UInt64($1) })
    }

    @Test func indicatorFormsAndRAND36WithAValueSetKeepTheReferencePath() throws {
        #expect(!BatchScoring(instrument: try instrument("kvarus-followup"), valueSet: nil).isCompiled)
        #expect(!BatchScoring(instrument: try instrument("rand36"), valueSet: "no-2024").isCompiled)
        #expect(BatchScoring(instrument: try instrument("rand36"), valueSet: nil).isCompiled)
        try expectSameBytes(try instrument("kvarus-followup"), valueSet: nil, lines: 500, seed: 5)
        try expectSameBytes(try instrument("rand36"), valueSet: "no-2024", lines: 200, seed: 6)
    }

    @Test func aRepeatingRAND36MeanIsRoundedAtTheTwelfthDecimal() throws {
        // Role emotional: 17=1 (0), 18=2 (100), 19=2 (100) → 200/3; pain: 21=3 (60), 22=2 (75) → 67.5.
        let scoring = BatchScoring(instrument: try instrument("rand36"), valueSet: nil)
        let output = run(scoring, Array(#"{"17":1,"18":2,"19":2,"21":3,"22":2}"#.utf8) + [0x0A])
        let scales = [
            "physicalFunctioning", "rolePhysical", "roleEmotional", "energyFatigue", "emotionalWellbeing", "socialFunctioning", "pain",
            "generalHealth", "healthChange",
        ]
        let means = ["roleEmotional": "66.666666666667", "pain": "67.5"]
        let answered = ["roleEmotional": 3, "pain": 2]
        let met = ["roleEmotional", "pain"]
        let expected =
            "{" + scales.map { "\"\($0)\":\(means[$0] ?? "null")" }.joined(separator: ",")
            + ",\"itemsAnswered\":{" + scales.map { "\"\($0)\":\(answered[$0] ?? 0)" }.joined(separator: ",")
            + "},\"halfRuleMet\":{" + scales.map { "\"\($0)\":\(met.contains($0))" }.joined(separator: ",") + "}}\n"
        #expect(String(decoding: output, as: UTF8.self) == expected)
        #expect(scoring.compiledLines == 1)
    }

    @Test func eq5dIndicesMatchTheHandComputedVectors() throws {
        for vector in handVectors {
            let instrumentId = try #require(owningInstrument(ofValueSet: vector.valueSet))
            let scoring = BatchScoring(instrument: try instrument(instrumentId), valueSet: vector.valueSet)
            let dimensions = zip(["MO", "SC", "UA", "PD", "AD"], vector.state).map { "\"\($0)\":\($1)" }.joined(separator: ",")
            let line = String(decoding: run(scoring, Array("{\(dimensions),\"VAS\":70}\n".utf8)), as: UTF8.self)
            #expect(scoring.compiledLines == 1, "\(vector.valueSet) \(vector.state)")
            let json = try JSONParser.parse(String(line.dropLast()))
            #expect(json["state"] == .string(vector.state))
            guard case .number(let index) = json["index"] else {
                Issue.record("\(vector.valueSet) \(vector.state): no index in \(line)")
                continue
            }
            #expect(try decimal(index) == (try decimal(vector.index)), "\(vector.valueSet) \(vector.state): \(vector.working)")
            #expect(json["indexRounded"] == .number(vector.rounded))
            #expect(line.hasSuffix(",\"valueSet\":\"\(vector.valueSet)\",\"vas\":70}\n"))
        }
        let norway = BatchScoring(instrument: try instrument("eq5d-5l"), valueSet: "no-2024")
        let worst = run(norway, Array(#"{"MO":5,"SC":5,"UA":5,"PD":5,"AD":5,"VAS":0}"#.utf8))
        #expect(
            String(decoding: worst, as: UTF8.self)
                == #"{"state":"55555","index":-0.453,"indexRounded":-0.453,"valueSet":"no-2024","vas":0}"# + "\n")
    }

    /// Scores `lines` generated lines both ways, reading the input in chunks of random size.
    func expectSameBytes(_ instrument: Instrument, valueSet: String?, lines: Int, seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        var input: [UInt8] = []
        for number in 1...lines {
            input += Array(ResponseLine.make(instrument, &random, lineNumber: number).utf8)
            input += random.next(below: 20) == 0 ? [0x0D, 0x0A] : [0x0A]
        }
        if random.next(below: 2) == 0 { input.removeLast() }  // a last line without a newline
        let scoring = BatchScoring(instrument: instrument, valueSet: valueSet)
        let fast = run(scoring, input, random: &random)
        let reference = referenceOutput(instrument, valueSet: valueSet, input)
        if fast != reference {
            let fastLines = fast.split(separator: 0x0A, omittingEmptySubsequences: false)
            let referenceLines = reference.split(separator: 0x0A, omittingEmptySubsequences: false)
            let inputLines = input.split(separator: 0x0A, omittingEmptySubsequences: false)
            let shorter = min(fastLines.count, referenceLines.count)
            let first = (0..<shorter).first { fastLines[$0] != referenceLines[$0] } ?? shorter
            Issue.record(
                """
                \(instrument.id) \(valueSet ?? "-"): output differs at line \(first + 1) \
                (\(fastLines.count) vs \(referenceLines.count) lines)
                input:     \(String(decoding: inputLines[min(first, inputLines.count - 1)], as: UTF8.self))
                compiled:  \(String(decoding: fastLines[min(first, fastLines.count - 1)], as: UTF8.self))
                reference: \(String(decoding: referenceLines[min(first, referenceLines.count - 1)], as: UTF8.self))
                """)
        }
        if scoring.isCompiled {
            #expect(scoring.compiledLines > lines / 2, "\(instrument.id): only \(scoring.compiledLines) of \(lines) lines were compiled")
            #expect(scoring.compiledLines < lines, "\(instrument.id): no line took the reference path")
        } else {
            #expect(scoring.compiledLines == 0)
        }
    }

    /// The reference: lines split as `svar`'s `StandardInputLines` splits them, each through `referenceLine`.
    func referenceOutput(_ instrument: Instrument, valueSet: String?, _ input: [UInt8]) -> [UInt8] {
        var lines = input.split(separator: 0x0A, omittingEmptySubsequences: false).map { Array($0) }
        if lines.last?.isEmpty == true { lines.removeLast() }
        for i in lines.indices.dropLast() where lines[i].last == 0x0D { lines[i].removeLast() }
        if input.last == 0x0A, let last = lines.indices.last, lines[last].last == 0x0D { lines[last].removeLast() }
        var output: [UInt8] = []
        for (i, line) in lines.enumerated() {
            output += Array(BatchScoring.referenceLine(instrument, valueSet: valueSet, line, lineNumber: i + 1).utf8) + [0x0A]
        }
        return output
    }

    func run(_ scoring: BatchScoring, _ input: [UInt8]) -> [UInt8] {
        var random = SeededRandom(seed: 1)
        return run(scoring, input, random: &random)
    }

    func run(_ scoring: BatchScoring, _ input: [UInt8], random: inout SeededRandom) -> [UInt8] {
        final class Collected { var bytes: [UInt8] = [] }
        let collected = Collected()
        var offset = 0
        var chunks = random
        scoring.run(
            read: { buffer in
                let count = min(buffer.count, input.count - offset, 1 + Int(chunks.next(below: 9000)))
                input.withUnsafeBytes { source in
                    guard count > 0, let from = source.baseAddress, let to = buffer.baseAddress else { return }
                    to.copyMemory(from: from + offset, byteCount: count)
                }
                offset += count
                return count
            },
            write: { collected.bytes += $0 })
        random = chunks
        return collected.bytes
    }
}
