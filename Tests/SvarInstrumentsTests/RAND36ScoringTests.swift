import Foundation
import SvarInstruments
import Testing

/// RAND-36 scale scores checked against hand calculations from RAND's Tables 1 and 2.
@Suite struct RAND36ScoringTests {
    func score(_ json: String) throws -> Score {
        try instrument("rand36").score(try answers("rand36", json))
    }

    func number(_ score: Score, _ key: String) -> Decimal? { score.value(key)?.number }

    @Test func allItemsAtPrecodeOneGiveTheRecodesOfTable1() throws {
        // Precode 1 everywhere: items 1,2,20,22,34,36 → 100; 3–12 → 0; 13–19 → 0; 21,23,26,27,30 → 100;
        // 24,25,28,29,31 → 0; 32,33,35 → 0.
        let all = (1...36).map { "\"\($0)\":1" }.joined(separator: ",")
        let s = try score("{\(all)}")
        #expect(number(s, "physicalFunctioning") == 0)
        #expect(number(s, "rolePhysical") == 0)
        #expect(number(s, "roleEmotional") == 0)
        #expect(number(s, "energyFatigue") == 50)  // (100 + 100 + 0 + 0) / 4: items 23, 27 / 29, 31
        #expect(number(s, "emotionalWellbeing") == 40)  // (0 + 0 + 100 + 0 + 100) / 5: 24, 25, 26, 28, 30
        #expect(number(s, "socialFunctioning") == 50)  // (100 + 0) / 2: 20, 32
        #expect(number(s, "pain") == 100)  // (100 + 100) / 2: 21, 22
        #expect(number(s, "generalHealth") == 60)  // (100 + 0 + 100 + 0 + 100) / 5: 1, 33, 34, 35, 36
        #expect(number(s, "healthChange") == 100)
    }

    @Test func aRealisticResponseMatchesHandCalculation() throws {
        // PF: 3,3,2,2,3,2,3,3,3,3 → 100,100,50,50,100,50,100,100,100,100 = 850/10 = 85
        // RP: 2,2,1,2 → 100,100,0,100 = 75; RE: 1,2,2 → 0,100,100 = 66.66…
        // EF: 23=3 (60), 27=4 (40), 29=3 (40), 31=4 (60) → 200/4 = 50
        // EWB: 24=5 (80), 25=6 (100), 26=2 (80), 28=5 (80), 30=3 (60) → 400/5 = 80
        // SF: 20=2 (75), 32=4 (75) → 75; Pain: 21=3 (60), 22=2 (75) → 67.5
        // GH: 1=3 (50), 33=4 (75), 34=2 (75), 35=3 (50), 36=2 (75) → 325/5 = 65; change: 2=3 → 50
        let json = """
            {"1":3,"2":3,"3":3,"4":3,"5":2,"6":2,"7":3,"8":2,"9":3,"10":3,"11":3,"12":3,
             "13":2,"14":2,"15":1,"16":2,"17":1,"18":2,"19":2,"20":2,"21":3,"22":2,
             "23":3,"24":5,"25":6,"26":2,"27":4,"28":5,"29":3,"30":3,"31":4,"32":4,
             "33":4,"34":2,"35":3,"36":2}
            """
        let s = try score(json)
        #expect(number(s, "physicalFunctioning") == 85)
        #expect(number(s, "rolePhysical") == 75)
        #expect(number(s, "roleEmotional") == (try decimal("66.666666666667")))  // 200/3, rounded at the 12th decimal
        #expect(number(s, "energyFatigue") == 50)
        #expect(number(s, "emotionalWellbeing") == 80)
        #expect(number(s, "socialFunctioning") == 75)
        #expect(number(s, "pain") == (try decimal("67.5")))
        #expect(number(s, "generalHealth") == 65)
        #expect(number(s, "healthChange") == 50)
        #expect(s.values.allSatisfy { $0.itemsAnswered == $0.itemsInScale })
    }

    @Test func missingItemsFollowRANDsRuleAndReportTheHalfRule() throws {
        // Only item 3 of physical functioning answered (2 → 50): RAND mean 50 over 1 item; half rule (5/10) not met.
        let s = try score(#"{"3":2,"13":1,"14":2}"#)
        #expect(number(s, "physicalFunctioning") == 50)
        #expect(s.value("physicalFunctioning")?.itemsAnswered == 1)
        #expect(s.value("physicalFunctioning")?.itemsInScale == 10)
        #expect(number(s, "rolePhysical") == 50)  // (0 + 100) / 2
        #expect(number(s, "pain") == nil)  // no item answered → missing, not 0
        #expect(s.value("pain")?.itemsAnswered == 0)
        guard case .scaleMeans(let scoring) = try instrument("rand36").scoring else {
            Issue.record("rand36 is not scored by scale means")
            return
        }
        let pf = try #require(scoring.scales.first { $0.id == "physicalFunctioning" })
        let rp = try #require(scoring.scales.first { $0.id == "rolePhysical" })
        #expect(scoring.halfRuleMet(s, scale: pf) == false)
        #expect(scoring.halfRuleMet(s, scale: rp) == true)
    }

    @Test func emptyResponseHasEveryScaleMissing() throws {
        let s = try score("{}")
        #expect(s.values.count == 9)
        #expect(s.values.allSatisfy { $0.number == nil && $0.itemsAnswered == 0 })
    }

    @Test func scalesAreThoseOfRANDTable2() throws {
        guard case .scaleMeans(let scoring) = try instrument("rand36").scoring else {
            Issue.record("rand36 is not scored by scale means")
            return
        }
        let scales = Dictionary(uniqueKeysWithValues: scoring.scales.map { ($0.id, $0.items) })
        #expect(scales["physicalFunctioning"] == (3...12).map(String.init))
        #expect(scales["rolePhysical"] == ["13", "14", "15", "16"])
        #expect(scales["roleEmotional"] == ["17", "18", "19"])
        #expect(scales["energyFatigue"] == ["23", "27", "29", "31"])
        #expect(scales["emotionalWellbeing"] == ["24", "25", "26", "28", "30"])
        #expect(scales["socialFunctioning"] == ["20", "32"])
        #expect(scales["pain"] == ["21", "22"])
        #expect(scales["generalHealth"] == ["1", "33", "34", "35", "36"])
        #expect(scales["healthChange"] == ["2"])
        let q = try instrument("rand36")
        #expect(q.questionnaire.questions.map(\.linkId) == (1...36).map(String.init))
        #expect(q.questionnaire.copyright?.contains("developed at RAND as part of the Medical Outcomes Study") == true)
    }

    @Test(arguments: [
        (#"{"3":4}"#, "3"),  // 3-point item
        (#"{"13":3}"#, "13"),  // yes/no item
        (#"{"21":7}"#, "21"),  // 6-point item
        (#"{"1":0}"#, "1"),
        (#"{"1":2.5}"#, "1"),
        (#"{"1":"2"}"#, "1"),
        (#"{"1":true}"#, "1"),
        (#"{"37":1}"#, "37"),
        (#"{"g-general":1}"#, "g-general"),
    ])
    func invalidAnswersAreRefusedNamingTheItem(_ json: String, _ field: String) throws {
        let q = try instrument("rand36")
        let error = #expect(throws: AnswerError.self) { try q.checkAnswers(try JSONParser.parse(json)) }
        #expect(error?.field == field)
        #expect(error?.description.hasPrefix(field + ":") == true)
    }

    @Test func nonObjectInputIsRefused() throws {
        let q = try instrument("rand36")
        let error = #expect(throws: AnswerError.self) { try q.checkAnswers(.array([])) }
        #expect(error?.field == "$")
    }

    @Test func nullIsAnUnansweredItem() throws {
        let s = try score(#"{"21":null,"22":1}"#)
        #expect(number(s, "pain") == 100)
        #expect(s.value("pain")?.itemsAnswered == 1)
    }

    /// Each mean is kept once met (a submission scores eight scales); a kept mean is the one a scoring that has met
    /// nothing makes, to the last digit of its text, for answers with and without missing items.
    @Test func keptMeansAreTheOnesAFreshScoringMakes() throws {
        let rand36 = try instrument("rand36")
        guard case .scaleMeans(let kept) = rand36.scoring else {
            Issue.record("RAND-36 scores by scale means")
            return
        }
        var random = SeededRandom(seed: 36)
        let questions = kept.recode.keys.sorted()
        for _ in 0..<3_000 {
            var members: [String] = []
            for linkId in questions where !random.chance(15) {
                let codes = try #require(kept.recode[linkId]).keys.sorted()
                members.append("\"\(linkId)\":\(codes[random.next(below: codes.count)])")
            }
            let given = try answers("rand36", "{\(members.joined(separator: ","))}")
            let fresh = ScaleMeansScoring(algorithm: kept.algorithm, recode: kept.recode, scales: kept.scales)
            let (a, b) = (kept.score(given), fresh.score(given))
            #expect(a == b)
            #expect(a.values.map { $0.number.map(ExactNumber.text) } == b.values.map { $0.number.map(ExactNumber.text) })
            #expect(kept == fresh)
        }
    }
}
