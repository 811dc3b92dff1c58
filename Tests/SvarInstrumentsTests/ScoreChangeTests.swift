import Foundation
import Testing

@testable import SvarInstruments

/// The change summary's judgement: first to latest, against the MID, the better way round.
@Suite struct ScoreChangeTests {
    func point(_ day: Double, _ milestone: String, _ values: [String: ScoredValue]) -> ScoredTimePoint {
        ScoredTimePoint(at: Date(timeIntervalSince1970: day * 86_400), milestone: milestone, values: values)
    }
    func number(_ text: String, _ valueSet: String? = nil) -> ScoredValue {
        ScoredValue(number: Decimal(string: text), valueSet: valueSet)
    }

    @Test func numbersAreJudgedAgainstTheMIDTheBetterWayRound() throws {
        let eq = try instrument("eq5d-5l")
        // no-2024's MID is about 0.073; VAS's is 7.
        let changes = eq.changes([
            point(300, "end", ["index": number("0.900", "no-2024"), "vas": number("64", "no-2024"), "MO": number("1")]),
            point(0, "baseline", ["index": number("0.600", "no-2024"), "vas": number("60", "no-2024"), "MO": number("3")]),
            point(100, "evaluation", ["index": number("0.100", "no-2024")]),
        ])
        let byKey = Dictionary(uniqueKeysWithValues: changes.map { ($0.key, $0) })
        #expect(byKey["index"]?.verdict == .improved && byKey["index"]?.change == Decimal(string: "0.3"))
        #expect(byKey["index"]?.first.point.milestone == "baseline" && byKey["index"]?.latest?.point.milestone == "end")
        #expect(byKey["vas"]?.verdict == .withinDifference, "4 points is below the MID of 7")
        #expect(byKey["MO"]?.verdict == .noDifferenceOnFile, "a level moved, with no MID on file")
        #expect(byKey["SC"] == nil, "a score never answered is left out")
        let worse = eq.changes([
            point(0, "baseline", ["vas": number("80")]), point(9, "end", ["vas": number("70")]),
        ])
        #expect(worse.first?.verdict == .worsened && worse.first?.change == -10)
    }

    @Test func aSingleValueAndAChangeOfValueSetAreNotJudged() throws {
        let eq = try instrument("eq5d-5l")
        #expect(eq.changes([point(0, "baseline", ["vas": number("50")])]).first?.verdict == .onlyOnce)
        let mixed = eq.changes([
            point(0, "baseline", ["index": number("0.5", "no-2024")]), point(5, "end", ["index": number("0.9", "de-2018")]),
        ])
        #expect(mixed.first?.verdict == .differentValueSets)
    }

    @Test func yesNoIndicatorsTurnTheBetterOrWorseWay() throws {
        let kvarus = try instrument("kvarus-followup")
        let changes = kvarus.changes([
            point(0, "baseline", ["stableHousing": ScoredValue(flag: false), "overdoseLast30Days": ScoredValue(flag: false)]),
            point(5, "end", ["stableHousing": ScoredValue(flag: true), "overdoseLast30Days": ScoredValue(flag: true)]),
        ])
        let byKey = Dictionary(uniqueKeysWithValues: changes.map { ($0.key, $0.verdict) })
        #expect(byKey["stableHousing"] == .improved)
        #expect(byKey["overdoseLast30Days"] == .worsened, "an overdose where there was none is worse")
    }
}
