import Foundation
import SvarAssets
import SvarInstruments
import Testing

@Suite struct InstrumentCatalogueTests {
    @Test func theBundledInstrumentsLoadWithAllLanguages() throws {
        #expect(bundledCatalogue.instruments.map(\.id) == ["eq5d-3l", "eq5d-5l", "kvarus-followup", "rand36"])
        for instrument in bundledCatalogue.instruments {
            #expect(Set(instrument.texts.keys) == Set(Language.allCases), "\(instrument.id)")
            #expect(instrument.questionnaire.url == "urn:svar:questionnaire:\(instrument.id)")
            #expect(!instrument.questionnaire.version.isEmpty)
        }
        #expect(bundledCatalogue.valueSets.count == 14)
    }

    @Test func eq5dTextsAreMarkedAsNotTheOfficialWording() throws {
        for id in ["eq5d-5l", "eq5d-3l"] {
            let instrument = try instrument(id)
            #expect(instrument.questionnaire.copyright?.contains("not the official EQ-5D wording") == true)
            for (_, pack) in instrument.texts {
                #expect(pack.official == false)
                #expect(pack.source.contains("not the official EQ-5D wording"))
            }
        }
    }

    @Test func englishTextPacksEqualTheQuestionnaireTexts() throws {
        for instrument in bundledCatalogue.instruments {
            let en = try #require(instrument.texts[.en])
            for item in instrument.questionnaire.allItems {
                #expect(en.items[item.linkId]?.text == item.text, "\(instrument.id) \(item.linkId)")
                for option in item.answerOption ?? [] {
                    #expect(en.items[item.linkId]?.options?[option.valueCoding.code] == option.valueCoding.display)
                }
            }
        }
    }

    @Test func aTextPackMissingACodeStopsLoadingNamingFileAndItem() throws {
        let root = try scratchCopyOfInstruments()
        defer { try? FileManager.default.removeItem(at: root) }
        try editJSON(root.appendingPathComponent("rand36/text/nn.json")) { pack in
            var items = pack["items"] as? [String: Any] ?? [:]
            var item = items["21"] as? [String: Any] ?? [:]
            var options = item["options"] as? [String: Any] ?? [:]
            options.removeValue(forKey: "6")
            item["options"] = options
            items["21"] = item
            pack["items"] = items
        }
        let error = #expect(throws: DefinitionError.self) { try InstrumentLoader.catalogue(instruments: root) }
        #expect(error?.file == "rand36/text/nn.json")
        #expect(error?.description.contains("item '21' has no text for answer code '6'") == true)
    }

    @Test func aValueSetWithAnInexactCoefficientIsRefused() throws {
        let root = try scratchCopyOfInstruments()
        defer { try? FileManager.default.removeItem(at: root) }
        try editJSON(root.appendingPathComponent("eq5d-5l/valuesets/no-2024.json")) { set in
            var effects = set["mainEffects"] as? [String: Any] ?? [:]
            effects["MO"] = ["2": "about -0.03"]
            set["mainEffects"] = effects
        }
        let error = #expect(throws: DefinitionError.self) { try InstrumentLoader.catalogue(instruments: root) }
        #expect(error?.file == "eq5d-5l/valuesets/no-2024.json")
        #expect(error?.field == "mainEffects.MO.2")
    }

    @Test func twoDefaultValueSetsAreRefused() throws {
        let root = try scratchCopyOfInstruments()
        defer { try? FileManager.default.removeItem(at: root) }
        try editJSON(root.appendingPathComponent("eq5d-5l/valuesets/dk-2021.json")) { $0["default"] = true }
        let error = #expect(throws: DefinitionError.self) { try InstrumentLoader.catalogue(instruments: root) }
        #expect(error?.description.contains("exactly one value set must be the default") == true)
    }

    @Test func aRecodeThatMissesACodeIsRefused() throws {
        let root = try scratchCopyOfInstruments()
        defer { try? FileManager.default.removeItem(at: root) }
        try editJSON(root.appendingPathComponent("rand36/scoring.json")) { scoring in
            var recodes = scoring["recodes"] as? [[String: Any]] ?? []
            var values = recodes[1]["values"] as? [String: Any] ?? [:]
            values.removeValue(forKey: "3")
            recodes[1]["values"] = values
            scoring["recodes"] = recodes
        }
        let error = #expect(throws: DefinitionError.self) { try InstrumentLoader.catalogue(instruments: root) }
        #expect(error?.file == "rand36/scoring.json")
        #expect(error?.field == "recodes")
    }

    @Test func aQuestionnaireWhoseIdDiffersFromItsFolderIsRefused() throws {
        let root = try scratchCopyOfInstruments()
        defer { try? FileManager.default.removeItem(at: root) }
        try editJSON(root.appendingPathComponent("kvarus-followup/questionnaire.json")) { $0["id"] = "kvarus" }
        let error = #expect(throws: DefinitionError.self) { try InstrumentLoader.catalogue(instruments: root) }
        #expect(error?.field == "id")
    }

    @Test func malformedJSONNamesTheFileAndPath() throws {
        let root = try scratchCopyOfInstruments()
        defer { try? FileManager.default.removeItem(at: root) }
        try editJSON(root.appendingPathComponent("eq5d-3l/valuesets/uk-1997.json")) { $0["start"] = 1 }
        #expect(throws: AssetError.self) { try InstrumentLoader.catalogue(instruments: root) }
        do {
            _ = try InstrumentLoader.catalogue(instruments: root)
        } catch {
            #expect("\(error)".contains("eq5d-3l/valuesets/uk-1997.json: start"))
        }
    }
}
