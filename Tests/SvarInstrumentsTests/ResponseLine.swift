import Foundation
import SvarInstruments

/// A small seeded generator (SplitMix64), so a failing batch comparison can be replayed exactly.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next(below bound: Int) -> Int { Int(next() % UInt64(bound)) }

    mutating func chance(_ percent: Int) -> Bool { next(below: 100) < percent }

    mutating func pick<T>(_ choices: [T]) -> T { choices[next(below: choices.count)] }
}

/// Random NDJSON lines for an instrument: mostly valid responses (items or the VAS left out, `null`,
/// shuffled keys, spaces), and a share of the odd and the wrong that bulk files contain.
enum ResponseLine {
    static func make(_ instrument: Instrument, _ random: inout SeededRandom, lineNumber: Int) -> String {
        let questions = instrument.questionnaire.questions
        var members = questions.filter { _ in !random.chance(7) }.map { question in
            ("\"\(question.linkId)\"", random.chance(3) ? "null" : String(validValue(question, &random)))
        }
        if random.chance(20) { members.shuffle(using: &random) }
        let kind = random.next(below: 100)
        if kind < 70 { return (lineNumber == 1 && random.chance(50) ? "\u{FEFF}" : "") + compact(members) }
        if kind < 80 { return spaced(members, &random) }
        return odd(members, questions, &random)
    }

    static func validValue(_ question: Questionnaire.Item, _ random: inout SeededRandom) -> Int {
        if question.type == .integer, let low = question.minValue, let high = question.maxValue {
            return low + random.next(below: high - low + 1)
        }
        return Int(random.pick(question.optionCodes)) ?? 0
    }

    static func compact(_ members: [(String, String)]) -> String {
        "{" + members.map { "\($0):\($1)" }.joined(separator: ",") + "}"
    }

    static func spaced(_ members: [(String, String)], _ random: inout SeededRandom) -> String {
        var body: [String] = []
        for (key, value) in members {
            var parts: [String] = []
            for text in [key, ":", value] { parts += [random.pick(["", " ", "  ", "\t", " \t", "\r"]), text] }
            body.append(parts.joined())
        }
        return "\(random.pick(["", " ", "\t"])){\(body.joined(separator: ","))}\(random.pick(["", " ", "\t "]))"
    }

    static func odd(_ members: [(String, String)], _ questions: [Questionnaire.Item], _ random: inout SeededRandom) -> String {
        var members = members.isEmpty ? [("\"\(questions[0].linkId)\"", "1")] : members
        let at = random.next(below: members.count)
        switch random.next(below: 12) {
        case 0:
            members[at].1 = random.pick(["0", "4", "6", "7", "101", "-1", "999", "1000000000", "12345678901", "99999999999999999999"])
        case 1:
            members[at].1 = random.pick(["\"3\"", "\"\"", "true", "false", "[1]", "{\"a\":1}", "{}", "nul", "null1"])
        case 2:
            members[at].1 = random.pick(["2.0", "1e0", "2E0", "1.5", "-0", "01", "3.00", "1e400", "0.2e1", "1e-0", "-", "2."])
        case 3:
            members.insert((random.pick(["\"99\"", "\"mo\"", "\"VASX\"", "\"\"", "\"ø\"", "\"0\"", "\"01\""]), "1"), at: at)
        case 4:
            members.append(members[at])
        case 5:
            members[at].0 =
                "\"\\u00" + members[at].0.dropFirst().dropLast().utf8.map { String($0, radix: 16) }.joined(separator: "\\u00") + "\""
        case 6:
            return random.pick(["{}", "{ }", " {}\t", "[]", "3", "null", "\"x\"", "", "   ", "{", "}", "\u{FEFF}{}", "\r"])
        case 7:
            return random.pick(["{\"1\":}", "{\"1\":3,}", "{\"1\" 3}", "{,}", "{\"1\":3 \"2\":1}", "{\"1\":3}}", "[{\"1\":3}]"])
        case 8:
            return compact(members) + random.pick(["x", ",", " {}", "\u{0}", "}"])
        case 9:
            members[at].0 = random.pick(["\"1\u{1}\"", "\"\\n\"", "\"\\\"\"", "\"12345678\"", "\"1\\/\""])
        case 10:
            return "\u{FEFF}" + compact(members)
        default:
            return "{" + members.map { "\($0):\($1)" }.joined(separator: random.pick([",\r", ", ", ",\u{C}", ",\n"])) + "}"
        }
        return compact(members)
    }
}
