import Foundation
import SvarInstruments

/// Reads the instrument folders from disk into a checked `InstrumentCatalogue`.
///
/// Installed text packs (`SVAR_TEXT_PACKS_DIR/<instrument>/<lang>.json`) replace the bundled pack of the same
/// language, so a registry's licensed EQ-5D wording wins over Svar's own labels.
public enum InstrumentLoader {
    public static func catalogue(_ directories: AssetDirectories) throws -> InstrumentCatalogue {
        try catalogue(instruments: directories.instruments, textPacks: directories.textPacks)
    }

    public static func catalogue(instruments root: URL, textPacks: URL? = nil) throws -> InstrumentCatalogue {
        guard AssetDirectories.isDirectory(root) else { throw AssetError("\(root.path): not a directory") }
        let folders = try FileManager.default.contentsOfDirectory(atPath: root.path)
            .filter { AssetDirectories.isDirectory(root.appendingPathComponent($0)) }
            .filter {
                FileManager.default.fileExists(atPath: root.appendingPathComponent($0).appendingPathComponent("questionnaire.json").path)
            }
            .sorted()
        guard !folders.isEmpty else { throw AssetError("\(root.path): no instrument folders (with questionnaire.json) found") }
        let definitions = try folders.map { try definition(folder: $0, root: root, textPacks: textPacks) }
        return try InstrumentCatalogue(definitions)
    }

    public static func definition(folder: String, root: URL, textPacks: URL?) throws -> InstrumentDefinition {
        let dir = root.appendingPathComponent(folder)
        let questionnaire: Questionnaire = try decode(dir.appendingPathComponent("questionnaire.json"), relativeTo: root)
        let scoring: ScoringFile = try decode(dir.appendingPathComponent("scoring.json"), relativeTo: root)
        var packs: [Language: (file: String, pack: TextPack)] = [:]
        for file in try jsonFiles(in: dir.appendingPathComponent("text")) {
            let pack: TextPack = try decode(file, relativeTo: root)
            try checkFileName(file, pack: pack)
            packs[pack.language] = ("\(folder)/text/\(file.lastPathComponent)", pack)
        }
        if let textPacks {
            for file in try jsonFiles(in: textPacks.appendingPathComponent(folder)) {
                let pack: TextPack = try decode(file, relativeTo: textPacks)
                try checkFileName(file, pack: pack)
                packs[pack.language] = (file.path, pack)
            }
        }
        var valueSets: [(file: String, valueSet: ValueSetFile)] = []
        for file in try jsonFiles(in: dir.appendingPathComponent("valuesets")) {
            valueSets.append(("\(folder)/valuesets/\(file.lastPathComponent)", try decode(file, relativeTo: root)))
        }
        let safetyFile = dir.appendingPathComponent("safety.json")
        let safety: SafetyFile? = FileManager.default.fileExists(atPath: safetyFile.path) ? try decode(safetyFile, relativeTo: root) : nil
        let chartsFile = dir.appendingPathComponent("charts.json")
        let charts: ChartFile? = FileManager.default.fileExists(atPath: chartsFile.path) ? try decode(chartsFile, relativeTo: root) : nil
        let midFile = dir.appendingPathComponent("mid.json")
        let mid: ImportantDifferenceFile? =
            FileManager.default.fileExists(atPath: midFile.path) ? try decode(midFile, relativeTo: root) : nil
        if let mid, mid.instrument != folder {
            throw AssetError("\(folder)/mid.json: instrument: '\(mid.instrument)' does not match the folder '\(folder)'")
        }
        return InstrumentDefinition(
            folder: folder, questionnaire: questionnaire,
            textPacks: packs.keys.sorted().compactMap { packs[$0] },
            scoring: scoring, valueSets: valueSets, safety: safety, charts: charts, importantDifferences: mid,
            norms: try NormsLoader.norms(instrument: folder, instruments: root))
    }

    static func checkFileName(_ file: URL, pack: TextPack) throws {
        guard file.deletingPathExtension().lastPathComponent == pack.language.rawValue else {
            throw AssetError("\(file.path): language '\(pack.language.rawValue)' does not match the file name")
        }
    }

    static func jsonFiles(in directory: URL) throws -> [URL] {
        guard AssetDirectories.isDirectory(directory) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".json") }
            .sorted()
            .map { directory.appendingPathComponent($0) }
    }

    /// Decodes a JSON file; a decoding error names the file and the field path.
    public static func decode<T: Decodable>(_ file: URL, relativeTo root: URL? = nil) throws -> T {
        let name = root.map { file.path.replacingOccurrences(of: $0.path + "/", with: "") } ?? file.path
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw AssetError("\(name): cannot be read (\(error.localizedDescription))")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw AssetError("\(name): \(path(context.codingPath + [key])): is missing")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw AssetError("\(name): \(path(context.codingPath)): \(context.debugDescription)")
        } catch let DecodingError.dataCorrupted(context) {
            throw AssetError("\(name): \(path(context.codingPath)): \(context.debugDescription)")
        } catch {
            throw AssetError("\(name): \(error)")
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }
}
