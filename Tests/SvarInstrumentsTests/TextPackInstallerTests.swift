import Foundation
import SvarAssets
import SvarInstruments
import Testing

@Suite struct TextPackInstallerTests {
    func temporaryDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("svar-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A stand-in for a registry's licensed EQ-5D pack: the same codes, other wording, marked official.
    func licensedPack(in folder: URL, dropCode: String? = nil, extraItem: Bool = false) throws {
        let source = sourceInstrumentsDirectory.appendingPathComponent("eq5d-5l/text/nb.json")
        let target = folder.appendingPathComponent("eq5d-5l-nb-licensed.json")
        try FileManager.default.copyItem(at: source, to: target)
        try editJSON(target) { pack in
            pack["official"] = true
            pack["source"] = "Licensed wording (test fixture)"
            var items = pack["items"] as? [String: Any] ?? [:]
            var mo = items["MO"] as? [String: Any] ?? [:]
            mo["text"] = "LICENSED MOBILITY TEXT"
            if let dropCode, var options = mo["options"] as? [String: Any] {
                options.removeValue(forKey: dropCode)
                mo["options"] = options
            }
            items["MO"] = mo
            if extraItem { items["XX"] = ["text": "unknown"] }
            pack["items"] = items
        }
    }

    @Test func aMatchingPackIsInstalledAndWinsOverTheBundledOne() throws {
        let source = try temporaryDirectory("pack")
        let installed = try temporaryDirectory("installed")
        defer {
            try? FileManager.default.removeItem(at: source)
            try? FileManager.default.removeItem(at: installed)
        }
        try licensedPack(in: source)
        let directories = AssetDirectories(instruments: sourceInstrumentsDirectory, web: sourceInstrumentsDirectory, textPacks: installed)
        let result = try TextPackInstaller.install(from: source, into: directories, catalogue: bundledCatalogue)
        #expect(result.map(\.instrument) == ["eq5d-5l"])
        #expect(FileManager.default.fileExists(atPath: installed.appendingPathComponent("eq5d-5l/nb.json").path))
        let catalogue = try InstrumentLoader.catalogue(directories)
        let pack = try #require(catalogue.instrument("eq5d-5l")?.texts[.nb])
        #expect(pack.items["MO"]?.text == "LICENSED MOBILITY TEXT")
        #expect(pack.official)
    }

    @Test(arguments: [(String?.some("5"), false), (nil, true)])
    func aPackThatDoesNotMatchIsRefusedAndNothingIsWritten(dropCode: String?, extraItem: Bool) throws {
        let source = try temporaryDirectory("pack")
        let installed = try temporaryDirectory("installed")
        defer {
            try? FileManager.default.removeItem(at: source)
            try? FileManager.default.removeItem(at: installed)
        }
        try licensedPack(in: source, dropCode: dropCode, extraItem: extraItem)
        let directories = AssetDirectories(instruments: sourceInstrumentsDirectory, web: sourceInstrumentsDirectory, textPacks: installed)
        let error = #expect(throws: AssetError.self) {
            try TextPackInstaller.install(from: source, into: directories, catalogue: bundledCatalogue)
        }
        #expect(error?.description.contains("refused") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: installed.path).isEmpty)
    }
}
