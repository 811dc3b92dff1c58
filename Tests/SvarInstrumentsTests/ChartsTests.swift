import Foundation
import SvarAssets
import SvarInstruments
import Testing

/// The clinicians' charts and the names of scores are data in each instrument's `charts.json`.
@Suite struct ChartsTests {
    @Test func theBundledInstrumentsSayHowTheirScoresAreDrawnAndNamed() throws {
        let rand = try instrument("rand36")
        #expect(rand.charts.map(\.kind) == [.profile] && rand.charts[0].scores.count == 8 && rand.charts[0].range == 0...100)
        #expect(rand.scoreLabel("emotionalWellbeing", .en) == "Emotional well-being")
        #expect(rand.scoreLabel("rolePhysical", .nn) == "Rolleavgrensing, fysisk")
        let eq = try instrument("eq5d-5l")
        #expect(eq.charts.map(\.scores) == [["index"], ["vas"]])
        #expect(eq.charts[0].title[.en] == "EQ-5D index over time")
        let kvarus = try instrument("kvarus-followup")
        #expect(kvarus.charts.isEmpty, "Kvarus's indicators are listed, not charted")
        #expect(kvarus.scoreLabel("overdoseLast30Days", .nn) == "Overdose siste 30 dagar")
        #expect(kvarus.reading.better["alcoholDays"] == .lower && kvarus.places("alcoholDays") == 0)
        #expect(eq.places("index") == 3 && eq.reading.better["MO"] == .lower && rand.places("pain") == 1)
    }

    @Test func everyBundledScoreHasANameInEachLanguageAndADirection() throws {
        for id in ["rand36", "eq5d-5l", "eq5d-3l", "kvarus-followup"] {
            let instrument = try instrument(id)
            for key in instrument.scoreKeys {
                for language in [Language.nb, .nn, .en] {
                    #expect(instrument.scoreLabel(key, language) != key, "\(id).\(key) has no \(language) name")
                }
                #expect(instrument.reading.better[key] != nil, "\(id).\(key) does not say which way is better")
            }
        }
    }

    @Test(
        arguments: [
            ("better", "vas", nil, "better.vas", "say whether higher or lower is better"),
            ("better", "vas", "up", "better.vas", "'up' is not one of higher, lower"),
            ("better", "idx", "higher", "better.idx", "'idx' is not a score of this instrument"),
            ("places", "index", "9", "places.index", "give 0 to 4 decimals"),
            ("scoreLabels", "MO", nil, "scoreLabels.MO", "every score needs a name"),
        ] as [(String, String, String?, String, String)])
    func aScoreWithoutNameOrDirectionStopsLoading(map: String, key: String, value: String?, field: String, reason: String) throws {
        let root = try scratchCopyOfInstruments()
        defer { try? FileManager.default.removeItem(at: root) }
        try editJSON(root.appendingPathComponent("eq5d-5l/charts.json")) { file in
            var entries = file[map] as? [String: Any] ?? [:]
            entries[key] = value.map { map == "places" ? Int($0) ?? 0 : $0 as Any }
            file[map] = entries
        }
        let error = #expect(throws: DefinitionError.self) { try InstrumentLoader.catalogue(instruments: root) }
        #expect(error?.file == "eq5d-5l/charts.json")
        #expect(error?.field == field)
        #expect(error?.reason == reason)
    }

    @Test(arguments: [
        ("pie", ["index"], 0.0, 1.0, "charts[0].kind", "'pie' is not one of profile, trend"),
        ("trend", ["index", "vas"], 0, 1, "charts[0].scores", "a trend shows exactly one score"),
        ("trend", ["idx"], 0, 1, "charts[0].scores[0]", "'idx' is not a score of this instrument"),
        ("trend", ["vas"], 100, 0, "charts[0].range", "give [low, high] with low below high"),
    ])
    func aBadChartStopsLoadingNamingTheField(kind: String, scores: [String], low: Double, high: Double, field: String, reason: String)
        throws
    {
        let root = try scratchCopyOfInstruments()
        defer { try? FileManager.default.removeItem(at: root) }
        try editJSON(root.appendingPathComponent("eq5d-5l/charts.json")) { file in
            file["charts"] = [["kind": kind, "scores": scores, "range": [low, high], "title": ["nb": "a", "nn": "b", "en": "c"]]]
        }
        let error = #expect(throws: DefinitionError.self) { try InstrumentLoader.catalogue(instruments: root) }
        #expect(error?.file == "eq5d-5l/charts.json")
        #expect(error?.field == field)
        #expect(error?.reason == reason)
    }
}
