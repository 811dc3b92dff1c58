import Foundation
import SvarDomain
import SvarInstruments

/// Reads `instruments/protocols/<id>.json` and checks it against the instruments Svar has.
public enum ProtocolLoader {
    public static func load(id: String, directories: AssetDirectories, catalogue: InstrumentCatalogue) throws -> ScheduleProtocol {
        let file = directories.instruments.appendingPathComponent("protocols/\(id).json")
        let name = "protocols/\(id).json"
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw AssetError("\(name): no such protocol (SVAR_PROTOCOL=\(id)) in \(directories.instruments.path)")
        }
        let decoded: ScheduleProtocolFile = try InstrumentLoader.decode(file, relativeTo: directories.instruments)
        do {
            return try decoded.scheduleProtocol(knownInstruments: Set(catalogue.instruments.map(\.id)))
        } catch {
            throw AssetError("\(name): \(error.field): \(error.reason)")
        }
    }
}
