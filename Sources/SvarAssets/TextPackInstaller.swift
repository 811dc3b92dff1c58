import Foundation
import SvarInstruments

/// Installs licensed text packs (e.g. the official EQ-5D wording) into `SVAR_TEXT_PACKS_DIR`.
///
/// All packs in the folder are checked before any is written: one that does not match its instrument's
/// linkIds and codes stops the whole import, so an installation is never half done.
public enum TextPackInstaller {
    public struct Installed: Sendable, Equatable {
        public let instrument: String
        public let language: Language
        public let destination: URL
    }

    public static func install(from source: URL, into directories: AssetDirectories, catalogue: InstrumentCatalogue) throws -> [Installed] {
        guard AssetDirectories.isDirectory(source) else { throw AssetError("\(source.path): not a directory") }
        let files = try InstrumentLoader.jsonFiles(in: source)
        guard !files.isEmpty else { throw AssetError("\(source.path): no .json text packs found") }
        var checked: [(URL, TextPack)] = []
        for file in files {
            let pack: TextPack = try InstrumentLoader.decode(file)
            guard let instrument = catalogue.instrument(pack.instrument) else {
                throw AssetError(
                    "\(file.lastPathComponent): instrument '\(pack.instrument)' is unknown (known: "
                        + "\(catalogue.instruments.map(\.id).joined(separator: ", ")))"
                )
            }
            let problems = pack.mismatches(against: instrument.questionnaire)
            guard problems.isEmpty else {
                throw AssetError(
                    "\(file.lastPathComponent): refused, it does not match \(instrument.id): " + problems.joined(separator: "; "))
            }
            if let version = pack.instrumentVersion, version != instrument.questionnaire.version {
                throw AssetError(
                    "\(file.lastPathComponent): refused, it is for \(instrument.id) version \(version), installed is "
                        + "\(instrument.questionnaire.version)"
                )
            }
            checked.append((file, pack))
        }
        var installed: [Installed] = []
        for (file, pack) in checked {
            let folder = directories.textPacks.appendingPathComponent(pack.instrument)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let destination = folder.appendingPathComponent("\(pack.language.rawValue).json")
            let data = try Data(contentsOf: file)
            try data.write(to: destination, options: .atomic)
            installed.append(Installed(instrument: pack.instrument, language: pack.language, destination: destination))
        }
        return installed
    }
}
