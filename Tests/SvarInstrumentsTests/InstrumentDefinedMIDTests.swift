import Foundation
import SvarAssets
import Testing

@testable import SvarInstruments

/// The minimal important differences of `mid.json`: computed where the method allows it, transcribed where
/// not, and checked against what the sources publish.
@Suite struct ImportantDifferenceTests {
    func rounded(_ value: Decimal?, _ places: Int) -> String? { value.map { ExactNumber.text($0, places: places) } }

    @Test func theComputedIndexMIDsMatchThePublishedOnes() throws {
        // Henry et al. (Value Health 2020), EQ-VT version 2 value sets: Germany 0.083, United States 0.078.
        let eq = try instrument("eq5d-5l")
        #expect(rounded(eq.importantDifferences.difference("index", valueSet: "de-2018")?.value, 3) == "0.083")
        #expect(rounded(eq.importantDifferences.difference("index", valueSet: "us-2019")?.value, 3) == "0.079")
        // Every bundled 5L value set gets one, including the Norwegian default.
        for set in eq.valueSets {
            let mid = try #require(eq.importantDifferences.difference("index", valueSet: set.id), "no MID for \(set.id)")
            #expect(mid.value > Decimal(string: "0.03")! && mid.value < Decimal(string: "0.12")!, "\(set.id): \(mid.value)")
        }
    }

    @Test func transcribedAndDerivedMIDsCarryTheirSources() throws {
        let eq3 = try instrument("eq5d-3l")
        #expect(eq3.importantDifferences.difference("index", valueSet: "uk-1997")?.value == Decimal(string: "0.082"))
        #expect(eq3.importantDifferences.difference("index", valueSet: "dk-2009") == nil, "not published for this value set")
        #expect(eq3.importantDifferences.difference("vas", valueSet: nil)?.shortSource == "Pickard et al. 2007")
        let rand = try instrument("rand36")
        // Half the Norwegian population SD (20.42) of physical functioning.
        #expect(rand.importantDifferences.difference("physicalFunctioning", valueSet: nil)?.value == Decimal(string: "10.21"))
        #expect(rand.importantDifferences.difference("pain", valueSet: nil) == nil)
    }

    @Test(arguments: [
        (#"{"method": "halfNormSD", "source": "s", "shortSource": "s"}"#, "pain", "scores.pain.method"),
        (#"{"perValueSet": {"xx-1999": "0.1"}, "source": "s", "shortSource": "s"}"#, "index", "scores.index.perValueSet.xx-1999"),
        (#"{"value": "-3", "source": "s", "shortSource": "s"}"#, "vas", "scores.vas.value"),
        (#"{"value": "3"}"#, "vas", "scores.vas.source"),
        (#"{"reason": "noMidOnFile"}"#, "vas", "scores.vas.reason"),
        (#"{"value": "3", "method": "instrumentDefined", "source": "s", "shortSource": "s"}"#, "vas", "scores.vas"),
    ])
    func aBadMIDFileStopsLoadingNamingTheField(entryJSON: String, key: String, field: String) throws {
        let entry = try JSONSerialization.jsonObject(with: Data(entryJSON.utf8))
        let root = try scratchCopyOfInstruments()
        defer { try? FileManager.default.removeItem(at: root) }
        let instrument = key == "pain" ? "rand36" : "eq5d-3l"
        try editJSON(root.appendingPathComponent("\(instrument)/mid.json")) { file in
            var scores = file["scores"] as? [String: Any] ?? [:]
            scores[key] = entry
            file["scores"] = scores
        }
        let error = #expect(throws: DefinitionError.self) { try InstrumentLoader.catalogue(instruments: root) }
        #expect(error?.file == "\(instrument)/mid.json")
        #expect(error?.field == field)
    }
}
