import Foundation
import SvarAssets
import SvarInstruments
import Testing

/// Sensitive questions are data: which items the patient's pages give the safety message for, and which
/// answers flag a response for a clinician.
@Suite struct SafetyTests {
    @Test func theBundledInstrumentsMarkTheirSensitiveItems() throws {
        #expect(try instrument("kvarus-followup").safety.map(\.item) == ["overdose", "injecting"])
        #expect(try instrument("eq5d-5l").safety.map(\.flagAnswers) == [[4, 5]])
        #expect(try instrument("eq5d-3l").safety.map(\.flagAnswers) == [[3]])
        #expect(try instrument("rand36").safety.map(\.item) == ["25", "28"])
        let kvarus = try instrument("kvarus-followup")
        #expect(kvarus.isSensitive("overdose") && !kvarus.isSensitive("housing"))
        #expect(kvarus.safety.first?.label(.nn) == "Overdose dei siste 30 dagane")
    }

    @Test func onlyTheListedAnswersRaiseAFlag() throws {
        let eq5d = try instrument("eq5d-5l")
        let severe = Answers(instrument: "eq5d-5l", checked: ["MO": 1, "SC": 1, "UA": 1, "PD": 1, "AD": 4])
        let moderate = Answers(instrument: "eq5d-5l", checked: ["MO": 1, "SC": 1, "UA": 1, "PD": 1, "AD": 3])
        #expect(eq5d.safetyFlags(severe).map(\.item) == ["AD"])
        #expect(eq5d.safetyFlags(moderate).isEmpty)
        let kvarus = try instrument("kvarus-followup")
        #expect(
            kvarus.safetyFlags(Answers(instrument: "kvarus-followup", checked: ["overdose": 1, "injecting": 2])).map(\.item) == ["overdose"]
        )
        #expect(kvarus.safetyFlags(Answers(instrument: "kvarus-followup", checked: [:])).isEmpty, "an unanswered question raises nothing")
    }

    @Test(arguments: [
        ("housing-typo", ["1"], "items[0].item", "'housing-typo' is not a choice question"),
        ("alcoholDays", ["1"], "items[0].item", "'alcoholDays' is not a choice question"),
        ("overdose", ["7"], "items[0].flagAnswers[0]", "'7' is not an answer of overdose"),
        ("overdose", [], "items[0].flagAnswers", "name at least one answer code"),
    ])
    func aBadSafetyFileStopsLoadingNamingTheField(item: String, answers: [String], field: String, reason: String) throws {
        let root = try scratchCopyOfInstruments()
        defer { try? FileManager.default.removeItem(at: root) }
        try editJSON(root.appendingPathComponent("kvarus-followup/safety.json")) { file in
            file["items"] = [["item": item, "flagAnswers": answers, "label": ["nb": "a", "nn": "b", "en": "c"]]]
        }
        let error = #expect(throws: DefinitionError.self) { try InstrumentLoader.catalogue(instruments: root) }
        #expect(error?.file == "kvarus-followup/safety.json")
        #expect(error?.field == field)
        #expect(error?.reason.hasPrefix(reason) == true, "\(String(describing: error))")
    }

    @Test func everyLanguageNeedsALabel() throws {
        let root = try scratchCopyOfInstruments()
        defer { try? FileManager.default.removeItem(at: root) }
        try editJSON(root.appendingPathComponent("eq5d-3l/safety.json")) { file in
            file["items"] = [["item": "AD", "flagAnswers": ["3"], "label": ["nb": "a", "en": "c"]]]
        }
        let error = #expect(throws: DefinitionError.self) { try InstrumentLoader.catalogue(instruments: root) }
        #expect(error?.field == "items[0].label.nn")
    }
}
