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
        #expect(try instrument("kvarus-followup").charts.isEmpty, "an instrument without charts.json has no charts")
        #expect(try instrument("kvarus-followup").scoreLabel("overdose", .nb) == "overdose", "without a label, the key")
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
