import Foundation
import SvarAssets
import SvarInstruments
import Testing

/// The bundled catalogue, loaded once for all tests (the same files `svar` ships with).
let bundledCatalogue: InstrumentCatalogue = {
    do {
        return try InstrumentLoader.catalogue(instruments: sourceInstrumentsDirectory)
    } catch {
        fatalError("the bundled instruments do not load: \(error)")
    }
}()

let sourceInstrumentsDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Sources/SvarAssets/instruments")

let vectorsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors")

func instrument(_ id: String) throws -> Instrument {
    try #require(bundledCatalogue.instrument(id), "instrument \(id) is not in the catalogue")
}

func answers(_ id: String, _ json: String) throws -> Answers {
    try instrument(id).checkAnswers(try JSONParser.parse(json))
}

func decimal(_ text: String) throws -> Decimal {
    try #require(ExactNumber.decimal(text), "'\(text)' is not a decimal")
}

/// Copies the bundled instruments folder to a fresh temporary folder a test may break.
func scratchCopyOfInstruments() throws -> URL {
    let target = FileManager.default.temporaryDirectory.appendingPathComponent("svar-instruments-\(UUID().uuidString)")
    try FileManager.default.copyItem(at: sourceInstrumentsDirectory, to: target)
    return target
}

func editJSON(_ file: URL, _ edit: (inout [String: Any]) -> Void) throws {
    var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
    edit(&object)
    try JSONSerialization.data(withJSONObject: object).write(to: file)
}
