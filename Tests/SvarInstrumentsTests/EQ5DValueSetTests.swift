import Foundation
import SvarInstruments
import Testing

/// One state computed by hand from a paper's coefficients (see e2e/eq5d_hand_vectors.py for the working).
struct HandVector: Decodable, CustomTestStringConvertible {
    let valueSet: String
    let state: String
    let index: String
    let rounded: String
    let working: String
    var testDescription: String { "\(valueSet) \(state)" }
}

let handVectors: [HandVector] = {
    do {
        let data = try Data(contentsOf: vectorsDirectory.appendingPathComponent("eq5d.json"))
        return try JSONDecoder().decode([HandVector].self, from: data)
    } catch {
        fatalError("Vectors/eq5d.json: \(error)")
    }
}()

func owningInstrument(ofValueSet id: String) -> String? {
    bundledCatalogue.valueSets.first { $0.valueSet.id == id }?.instrument
}

func eq5dAnswers(_ instrumentId: String, state: String, vas: Int? = nil) throws -> Answers {
    let dims = ["MO", "SC", "UA", "PD", "AD"]
    var members = zip(dims, state).map { "\"\($0)\":\($1)" }
    if let vas { members.append("\"VAS\":\(vas)") }
    return try answers(instrumentId, "{\(members.joined(separator: ","))}")
}

@Suite struct EQ5DValueSetTests {
    @Test(arguments: handVectors)
    func handComputedStatesAreReproducedExactly(_ vector: HandVector) throws {
        let instrumentId = try #require(owningInstrument(ofValueSet: vector.valueSet), "unknown value set \(vector.valueSet)")
        let score = try instrument(instrumentId).score(try eq5dAnswers(instrumentId, state: vector.state), valueSet: vector.valueSet)
        let index = try #require(score.value("index")?.number)
        #expect(index == (try decimal(vector.index)), "\(vector.working)")
        #expect(ExactNumber.text(index, places: 3) == vector.rounded)
        #expect(score.valueSet == vector.valueSet)
    }

    @Test func everyValueSetHasAtLeastThreeHandVectorsIncludingTheWorstState() {
        for (instrumentId, set) in bundledCatalogue.valueSets {
            let states = handVectors.filter { $0.valueSet == set.id }.map(\.state)
            let worst = instrumentId == "eq5d-5l" ? "55555" : "33333"
            #expect(states.count >= 3, "\(set.id) has \(states.count) hand vectors")
            #expect(states.contains(worst), "\(set.id) has no hand vector for \(worst)")
        }
    }

    @Test func publishedAnchorsHold() throws {
        let anchors: [(String, String, String)] = [
            ("no-2024", "55555", "-0.453"), ("dk-2021", "55555", "-0.758"), ("uk-1997", "12321", "0.329"),
            ("us-2005", "33333", "-0.109"), ("ca-2016", "11111", "0.949"), ("nl-2016", "11111", "1.000"),
        ]
        for (setId, state, expected) in anchors {
            let instrumentId = try #require(owningInstrument(ofValueSet: setId))
            let score = try instrument(instrumentId).score(try eq5dAnswers(instrumentId, state: state), valueSet: setId)
            let index = try #require(score.value("index")?.number)
            #expect(ExactNumber.text(index, places: 3) == expected, "\(setId) \(state)")
        }
    }

    @Test func fullHealthIsOneWhereTheModelHasNoConstantOrLevelOneTerms() throws {
        var checked = 0
        for (instrumentId, set) in bundledCatalogue.valueSets {
            let hasLevelOneTerms = set.mainEffects.values.contains { $0[1] != nil }
            let termsTouchLevelOne = set.terms.contains { $0.levels.contains(1) }
            guard set.start == 1, !hasLevelOneTerms, !termsTouchLevelOne else { continue }
            let score = try instrument(instrumentId).score(try eq5dAnswers(instrumentId, state: "11111"), valueSet: set.id)
            #expect(score.value("index")?.number == 1, "\(set.id)")
            checked += 1
        }
        #expect(checked >= 12)
    }

    /// For sets whose every extra term is a penalty, worsening one dimension by one level never raises the index.
    @Test func indexNeverRisesWhenOneLevelWorsens() throws {
        var checkedSets = 0
        for (instrumentId, set) in bundledCatalogue.valueSets {
            guard set.terms.allSatisfy({ $0.kind == .any && $0.coefficient < 0 }) else { continue }
            checkedSets += 1
            let dims = ["MO", "SC", "UA", "PD", "AD"]
            let top = instrumentId == "eq5d-5l" ? 5 : 3
            for code in 0..<Int(pow(Double(top), 5)) {
                var levels: [Int] = []
                var rest = code
                for _ in 0..<5 {
                    levels.append(rest % top + 1)
                    rest /= top
                }
                let index = set.index(levels: zip(dims, levels).map { ($0, $1) })
                for d in 0..<5 where levels[d] < top {
                    var worse = levels
                    worse[d] += 1
                    let worseIndex = set.index(levels: zip(dims, worse).map { ($0, $1) })
                    #expect(worseIndex <= index, "\(set.id): \(levels) → \(worse)")
                }
            }
        }
        #expect(checkedSets >= 12)
    }

    @Test func aMissingDimensionGivesNoIndexButKeepsVAS() throws {
        let a = try answers("eq5d-5l", #"{"MO":1,"SC":2,"UA":3,"PD":4,"VAS":55}"#)
        let eq5d = try instrument("eq5d-5l")
        let score = try eq5d.score(a)
        #expect(score.value("index")?.number == nil)
        #expect(score.value("vas")?.number == 55)
        let report = ScoreReport.json(score, instrument: eq5d)
        #expect(report["state"] == .null)
        #expect(report["index"] == .null)
        #expect(report["indexRounded"] == .null)
        #expect(report["vas"] == .number("55"))
    }

    @Test func theDefaultValueSetsAreNorway2024AndUK1997() throws {
        let score5 = try instrument("eq5d-5l").score(try eq5dAnswers("eq5d-5l", state: "11111"))
        #expect(score5.valueSet == "no-2024")
        let score3 = try instrument("eq5d-3l").score(try eq5dAnswers("eq5d-3l", state: "11111"))
        #expect(score3.valueSet == "uk-1997")
    }

    @Test func anUnknownValueSetIsRefused() throws {
        let error = #expect(throws: AnswerError.self) {
            try instrument("eq5d-5l").score(try eq5dAnswers("eq5d-5l", state: "11111"), valueSet: "uk-1997")
        }
        #expect(error?.field == "valueSet")
    }

    @Test func everyValueSetCarriesItsCitation() {
        for (_, set) in bundledCatalogue.valueSets {
            #expect(set.citation.count > 20, "\(set.id)")
            #expect(set.id == set.id.lowercased())
        }
        let disputed = ["de-2018", "nl-2016", "us-2005"]
        for id in disputed {
            let set = bundledCatalogue.valueSets.first { $0.valueSet.id == id }?.valueSet
            #expect(set?.decisions.isEmpty == false, "\(id) must record its decision")
        }
    }

    @Test func displayRoundingIsHalfAwayFromZero() throws {
        #expect(ExactNumber.text(try decimal("-0.5115"), places: 3) == "-0.512")
        #expect(ExactNumber.text(try decimal("0.0255"), places: 3) == "0.026")
        #expect(ExactNumber.text(try decimal("0.9"), places: 3) == "0.900")
        #expect(ExactNumber.text(try decimal("1"), places: 3) == "1.000")
        #expect(ExactNumber.text(try decimal("-0.1090707"), places: 3) == "-0.109")
    }

    @Test func vasOutsideZeroToHundredIsRefused() throws {
        for bad in ["101", "-1", "50.5"] {
            let error = #expect(throws: AnswerError.self) { try answers("eq5d-5l", "{\"VAS\":\(bad)}") }
            #expect(error?.field == "VAS")
        }
    }

    @Test func threeLevelDataWithLevelFourHintsAtFiveLevels() throws {
        let error = #expect(throws: AnswerError.self) { try answers("eq5d-3l", #"{"PD":4}"#) }
        #expect(error?.field == "PD")
        #expect(error?.reason.contains("EQ-5D-5L") == true)
    }
}
