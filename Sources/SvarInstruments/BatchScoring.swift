import Foundation

/// Bulk rescoring of NDJSON (`svar score --batch`): one output line per input line, byte for byte what the
/// reference path (`JSONParser`, `checkAnswers`, `score`, `ScoreReport`) prints.
///
/// Registries rescore millions of stored responses when a value set changes, so the common line — a flat
/// object of whole-number answers — goes through a compiled scorer built once from the same instrument
/// data; any other line (errors, escapes, `2.0`, a byte-order mark …) goes through the reference path.
public final class BatchScoring {
    private enum Compiled {
        case scaleMeans(CompiledScaleMeans)
        case eq5d(CompiledEQ5D)
    }

    private let instrument: Instrument
    private let valueSet: String?
    private let scan: AnswerScan?
    private let compiled: Compiled?
    private let maximumLineLength: Int
    private let answers: UnsafeMutablePointer<Int32>
    /// Lines scored by the compiled scorer (the rest went through the reference path).
    public private(set) var compiledLines = 0

    /// `compiled: false` scores every line through the reference path (for checks).
    public init(instrument: Instrument, valueSet: String?, compiled: Bool = true) {
        self.instrument = instrument
        self.valueSet = valueSet
        let questions = instrument.questions
        var scan = compiled ? AnswerScan(instrument) : nil
        var built: Compiled?
        switch (instrument.scoring, scan == nil) {
        case (.scaleMeans(let scoring), false) where valueSet == nil:
            built = CompiledScaleMeans(scoring, questions: questions).map(Compiled.scaleMeans)
        case (.eq5d(let scoring), false):
            if let set = scoring.valueSet(id: valueSet) {
                built = CompiledEQ5D(scoring, valueSet: set, instrument: instrument, questions: questions).map(Compiled.eq5d)
            }
        default:
            built = nil
        }
        if built == nil { scan = nil }
        self.scan = scan
        self.compiled = built
        switch built {
        case .scaleMeans(let scorer): maximumLineLength = scorer.maximumLineLength
        case .eq5d(let scorer): maximumLineLength = scorer.maximumLineLength
        case nil: maximumLineLength = 0
        }
        answers = .allocate(capacity: max(questions.count, 1))
    }

    deinit { answers.deallocate() }

    /// Whether lines of the common shape are scored by a compiled scorer (rand36 and EQ-5D; not indicator forms).
    public var isCompiled: Bool { compiled != nil }

    /// Reads NDJSON with `read` (bytes read, 0 at the end) until the end and hands output blocks to `write`.
    /// Lines end at LF; a CR before the LF is dropped (as `svar`'s line reader does).
    public func run(read: (UnsafeMutableRawBufferPointer) -> Int, write: @escaping (UnsafeRawBufferPointer) -> Void) {
        let output = ByteOutput(sink: write)
        var capacity = 1 << 20
        var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        var filled = 0
        var lineNumber = 0
        while true {
            if filled == capacity {
                let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
                grown.update(from: buffer, count: filled)
                buffer.deallocate()
                buffer = grown
                capacity *= 2
            }
            let count = read(UnsafeMutableRawBufferPointer(start: buffer + filled, count: capacity - filled))
            guard count > 0 else { break }
            let scanFrom = filled
            filled += count
            var start = 0
            var from = scanFrom
            while let found = memchr(buffer + from, 0x0A, filled - from) {
                let newline = found.assumingMemoryBound(to: UInt8.self) - buffer
                var length = newline - start
                if length > 0, buffer[newline - 1] == 0x0D { length -= 1 }
                lineNumber += 1
                scoreLine(buffer + start, length, lineNumber, output)
                start = newline + 1
                from = start
            }
            if start > 0 {
                buffer.update(from: buffer + start, count: filled - start)
                filled -= start
            }
        }
        if filled > 0 {
            lineNumber += 1
            scoreLine(buffer, filled, lineNumber, output)
        }
        output.flush()
    }

    private func scoreLine(_ line: UnsafeMutablePointer<UInt8>, _ length: Int, _ lineNumber: Int, _ output: ByteOutput) {
        if let scan, let compiled, scan.read(line, length, into: answers) {
            let target = output.reserve(maximumLineLength)
            let end: UnsafeMutablePointer<UInt8>?
            switch compiled {
            case .scaleMeans(let scorer): end = scorer.write(answers, to: target)
            case .eq5d(let scorer): end = scorer.write(answers, to: target)
            }
            if let end {
                output.count += end - target
                compiledLines += 1
                return
            }
        }
        var text = BatchScoring.referenceLine(
            instrument, valueSet: valueSet, Array(UnsafeBufferPointer(start: line, count: length)), lineNumber: lineNumber)
        text += "\n"
        text.withUTF8 { output.append(UnsafeRawBufferPointer($0)) }
    }

    /// The reference output of one batch line: the score as `ScoreReport` prints it, or an error object
    /// naming the field and the line. A byte-order mark is skipped on line 1.
    public static func referenceLine(_ instrument: Instrument, valueSet: String?, _ line: [UInt8], lineNumber: Int) -> String {
        do {
            let bytes = lineNumber == 1 && line.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(line.dropFirst(3)) : line
            let answers = try instrument.checkAnswers(try JSONParser.parse(bytes))
            return ScoreReport.json(try instrument.score(answers, valueSet: valueSet), instrument: instrument).serialized
        } catch {
            return errorLine(error, lineNumber: lineNumber)
        }
    }

    /// The `{"error":…}` line a batch prints for a line it cannot score: the field too when an answer is wrong.
    public static func errorLine(_ error: any Error, lineNumber: Int) -> String {
        guard let error = error as? AnswerError else {
            return JSONValue.object([("error", .string("\(error)")), ("line", .int(lineNumber))]).serialized
        }
        return JSONValue.object([
            ("error", .string(error.description)), ("field", .string(error.field)), ("line", .int(lineNumber)),
        ]).serialized
    }
}
