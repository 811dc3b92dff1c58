import Foundation
import SvarInstruments

/// Reads `instruments/<instrument>/norms.json`. Norms are optional (most instruments have none), so a
/// missing file is no norms; a file that is there but wrong stops loading, naming the file and the field.
public enum NormsLoader {
    public static func norms(instrument: String, directories: AssetDirectories) throws -> ScaleNorms? {
        try norms(instrument: instrument, instruments: directories.instruments)
    }

    public static func norms(instrument: String, instruments root: URL) throws -> ScaleNorms? {
        let name = "\(instrument)/norms.json"
        let file = root.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        let norms: ScaleNorms = try InstrumentLoader.decode(file, relativeTo: root)
        guard norms.instrument == instrument else {
            throw AssetError("\(name): instrument: '\(norms.instrument)' does not match the folder '\(instrument)'")
        }
        // A misspelt scale id would silently draw no norm; the instrument's scoring names the scales.
        let scoringFile = root.appendingPathComponent("\(instrument)/scoring.json")
        if FileManager.default.fileExists(atPath: scoringFile.path) {
            let scoring: ScoringFile = try InstrumentLoader.decode(scoringFile, relativeTo: root)
            let known = Set(scoring.scales?.map(\.id) ?? [])
            if let unknown = norms.scales.keys.sorted().first(where: { !known.contains($0) }) {
                throw AssetError("\(name): scales.\(unknown): not a scale in \(instrument)/scoring.json")
            }
        }
        return norms
    }
}
