/// A byte-level reader for the common line of bulk rescoring, `{"linkId":code,…}`, that accepts a line only
/// when `Instrument.checkAnswers` would accept the same answers.
///
/// It reads no escapes, no fractions or exponents, no negative numbers and nothing nested; keys are
/// compared as bytes. Whatever it is not sure about, it refuses, and the caller scores that line with the
/// reference path, so error lines and unusual spellings keep their exact output.
struct AnswerScan {
    /// A question read but not answered (`null`); `unseen` marks a question absent from the line.
    static let null: Int32 = -2
    static let unseen: Int32 = -1

    let questionCount: Int
    private let slotKeys: [UInt64]
    private let slotQuestions: [Int32]
    private let shift: UInt64
    /// Per question: accepted values are `low...high` and, for coded items, `codes[codeStart + value]`.
    private let low: [Int32]
    private let high: [Int32]
    private let codeStart: [Int32]
    private let codes: [Bool]

    /// The questions of `instrument` in questionnaire order (their index is the answer's position), or nil
    /// when a linkId cannot be matched as plain bytes (longer than 7 bytes, or needing an escape).
    init?(_ instrument: Instrument) {
        let questions = instrument.questions
        guard !questions.isEmpty, questions.count < 4096 else { return nil }
        var size = 64
        while size < questions.count * 4 { size *= 2 }
        var keys = [UInt64](repeating: 0, count: size)
        var slots = [Int32](repeating: -1, count: size)
        let shift = UInt64(64 - size.trailingZeroBitCount)
        self.shift = shift
        var low: [Int32] = []
        var high: [Int32] = []
        var codeStart: [Int32] = []
        var codes: [Bool] = []
        for (index, question) in questions.enumerated() {
            let key = Array(question.linkId.utf8)
            guard !key.isEmpty, key.count <= 7, key.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }) else { return nil }
            let packed = AnswerScan.pack(key)
            var slot = Int((packed &* AnswerScan.multiplier) >> shift)
            while keys[slot] != 0 {
                if keys[slot] == packed { return nil }
                slot = (slot + 1) & (size - 1)
            }
            keys[slot] = packed
            slots[slot] = Int32(index)
            switch question.type {
            case .choice:
                // The codes `check` accepts: those whose text is exactly the value's decimal text.
                let accepted = question.optionCodes.compactMap { code in Int(code).flatMap { String($0) == code ? $0 : nil } }
                    .filter { (0...999_999).contains($0) }
                low.append(0)
                high.append(Int32(accepted.max() ?? -1))
                codeStart.append(Int32(codes.count))
                var table = [Bool](repeating: false, count: (accepted.max() ?? -1) + 1)
                for code in accepted { table[code] = true }
                codes += table
            case .integer:
                let lowest = max(question.minValue ?? Int.min, 0)
                let highest = min(question.maxValue ?? Int.max, 999_999_999)
                low.append(Int32(clamping: lowest))
                high.append(lowest <= highest ? Int32(highest) : -1)
                codeStart.append(-1)
            default:
                low.append(0)
                high.append(-1)
                codeStart.append(-1)
            }
        }
        questionCount = questions.count
        slotKeys = keys
        slotQuestions = slots
        self.low = low
        self.high = high
        self.codeStart = codeStart
        self.codes = codes
    }

    private static let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// A key of 1–7 bytes as one number: the bytes, and the length in the top byte (so never 0).
    private static func pack(_ key: [UInt8]) -> UInt64 {
        var packed = UInt64(key.count) << 56
        for (i, byte) in key.enumerated() { packed |= UInt64(byte) << (UInt64(i) * 8) }
        return packed
    }

    @inline(__always) private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D }

    /// Reads one line into `answers` (one slot per question: the value, `null` or `unseen`); false when the
    /// line is not of the plain shape or holds an answer `checkAnswers` would refuse.
    func read(_ line: UnsafePointer<UInt8>, _ count: Int, into answers: UnsafeMutablePointer<Int32>) -> Bool {
        answers.update(repeating: AnswerScan.unseen, count: questionCount)
        var p = line
        let end = line + count
        while p < end, AnswerScan.isSpace(p.pointee) { p += 1 }
        guard p < end, p.pointee == UInt8(ascii: "{") else { return false }
        p += 1
        while p < end, AnswerScan.isSpace(p.pointee) { p += 1 }
        guard p < end else { return false }
        if p.pointee == UInt8(ascii: "}") { return AnswerScan.onlySpace(p + 1, end) }
        return slotKeys.withUnsafeBufferPointer { keys in
            slotQuestions.withUnsafeBufferPointer { questions in
                readMembers(&p, end, keys, questions, answers)
            }
        }
    }

    private static func onlySpace(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> Bool {
        var p = start
        while p < end, isSpace(p.pointee) { p += 1 }
        return p == end
    }

    @inline(__always) private func readMembers(
        _ p: inout UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, _ keys: UnsafeBufferPointer<UInt64>,
        _ questions: UnsafeBufferPointer<Int32>, _ answers: UnsafeMutablePointer<Int32>
    ) -> Bool {
        let mask = keys.count - 1
        while true {
            guard p < end, p.pointee == UInt8(ascii: "\"") else { return false }
            p += 1
            var packed: UInt64 = 0
            var length: UInt64 = 0
            while true {
                guard p < end else { return false }
                let byte = p.pointee
                p += 1
                if byte == UInt8(ascii: "\"") { break }
                guard byte >= 0x20, byte != UInt8(ascii: "\\"), length < 7 else { return false }
                packed |= UInt64(byte) << (length &* 8)
                length += 1
            }
            guard length > 0 else { return false }
            packed |= length << 56
            var slot = Int((packed &* AnswerScan.multiplier) >> shift)
            while keys[slot] != packed {
                if keys[slot] == 0 { return false }
                slot = (slot + 1) & mask
            }
            let question = Int(questions[slot])
            guard answers[question] == AnswerScan.unseen else { return false }
            while p < end, AnswerScan.isSpace(p.pointee) { p += 1 }
            guard p < end, p.pointee == UInt8(ascii: ":") else { return false }
            p += 1
            while p < end, AnswerScan.isSpace(p.pointee) { p += 1 }
            guard p < end else { return false }
            var digit = p.pointee &- UInt8(ascii: "0")
            if digit < 10 {
                var value = Int32(digit)
                p += 1
                if value != 0 {
                    var digits = 1
                    while p < end {
                        digit = p.pointee &- UInt8(ascii: "0")
                        guard digit < 10 else { break }
                        guard digits < 9 else { return false }
                        value = value &* 10 &+ Int32(digit)
                        digits += 1
                        p += 1
                    }
                }
                guard accepts(question, value) else { return false }
                answers[question] = value
            } else if p.pointee == UInt8(ascii: "n"), end - p >= 4, p[1] == UInt8(ascii: "u"), p[2] == UInt8(ascii: "l"),
                p[3] == UInt8(ascii: "l")
            {
                answers[question] = AnswerScan.null
                p += 4
            } else {
                return false
            }
            while p < end, AnswerScan.isSpace(p.pointee) { p += 1 }
            guard p < end else { return false }
            if p.pointee == UInt8(ascii: ",") {
                p += 1
                while p < end, AnswerScan.isSpace(p.pointee) { p += 1 }
                continue
            }
            guard p.pointee == UInt8(ascii: "}") else { return false }
            return AnswerScan.onlySpace(p + 1, end)
        }
    }

    @inline(__always) private func accepts(_ question: Int, _ value: Int32) -> Bool {
        guard value >= low[question], value <= high[question] else { return false }
        let start = codeStart[question]
        return start < 0 || codes[Int(start) + Int(value)]
    }
}
