import Foundation
import SvarAssets
import Testing

@Suite struct ProtocolLoaderTests {
    func directories(_ root: URL) -> AssetDirectories {
        AssetDirectories(instruments: root, web: root, textPacks: root.appendingPathComponent("none"))
    }

    @Test func theKvarusProtocolLoads() throws {
        let p = try ProtocolLoader.load(id: "kvarus", directories: directories(sourceInstrumentsDirectory), catalogue: bundledCatalogue)
        #expect(p.milestones.map(\.id) == ["baseline", "evaluation", "end", "followUp1y"])
    }

    @Test func aWrongInstrumentStopsLoadingWithFileFieldAndReason() throws {
        let root = try scratchCopyOfInstruments()
        defer { try? FileManager.default.removeItem(at: root) }
        try editJSON(root.appendingPathComponent("protocols/kvarus.json")) { file in
            var milestones = file["milestones"] as? [[String: Any]] ?? []
            milestones[0]["instruments"] = ["rand36", "sf36"]
            file["milestones"] = milestones
        }
        let error = #expect(throws: AssetError.self) {
            try ProtocolLoader.load(id: "kvarus", directories: directories(root), catalogue: bundledCatalogue)
        }
        #expect(error?.description.hasPrefix("protocols/kvarus.json: milestones[0].instruments[1]: 'sf36' is not an instrument") == true)
    }

    @Test func aBadOffsetStopsLoadingWithFileAndField() throws {
        let root = try scratchCopyOfInstruments()
        defer { try? FileManager.default.removeItem(at: root) }
        try editJSON(root.appendingPathComponent("protocols/kvarus.json")) { file in
            var milestones = file["milestones"] as? [[String: Any]] ?? []
            milestones[3]["opens"] = ["months": "twelve"]
            file["milestones"] = milestones
        }
        let error = #expect(throws: AssetError.self) {
            try ProtocolLoader.load(id: "kvarus", directories: directories(root), catalogue: bundledCatalogue)
        }
        #expect(error?.description.contains("protocols/kvarus.json: milestones[3].opens.months") == true, "\(String(describing: error))")
    }

    /// Patient feedback is off unless the protocol turns it on; a value that is not true or false is refused by name.
    @Test func patientFeedbackIsOffByDefaultOnWhenSetAndCheckedByName() throws {
        let bundled = try ProtocolLoader.load(
            id: "kvarus", directories: directories(sourceInstrumentsDirectory), catalogue: bundledCatalogue)
        #expect(bundled.patientFeedback == false)
        let root = try scratchCopyOfInstruments()
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent("protocols/kvarus.json")
        try editJSON(file) { $0["patientFeedback"] = true }
        #expect(try ProtocolLoader.load(id: "kvarus", directories: directories(root), catalogue: bundledCatalogue).patientFeedback)
        try editJSON(file) { $0["patientFeedback"] = "yes" }
        let error = #expect(throws: AssetError.self) {
            try ProtocolLoader.load(id: "kvarus", directories: directories(root), catalogue: bundledCatalogue)
        }
        #expect(error?.description.hasPrefix("protocols/kvarus.json: patientFeedback:") == true, "\(String(describing: error))")
    }

    @Test func anUnknownProtocolIsNamed() {
        let error = #expect(throws: AssetError.self) {
            try ProtocolLoader.load(id: "nope", directories: directories(sourceInstrumentsDirectory), catalogue: bundledCatalogue)
        }
        #expect(error?.description.contains("SVAR_PROTOCOL=nope") == true)
    }
}
