import Foundation
import SvarInstruments
import SvarRegistry

/// A registry target that keeps what it receives and can hand it on as files: the local registry store, read
/// by `svar export` and the anonymous report. Its implementations live with their storage engine.
public protocol RegistryArchive: RegistryTarget {
    /// Writes the results (optionally one instrument's) into `directory` with a codebook, and records the
    /// export with its members, so a later deletion can report the data as already used.
    func export(
        _ format: ExportFormat, instrument: String?, catalogue: InstrumentCatalogue, into directory: URL,
        at: Date
    ) async throws -> ExportRecord
    /// The exports made so far, oldest first.
    func exports() async throws -> [ExportRecord]
}

public enum ExportFormat: String, Sendable, CaseIterable {
    case csv, ndjson
}

/// One export as recorded in the registry store: a deletion later reports it as data already used (§ 3-3).
public struct ExportRecord: Sendable, Equatable {
    public var id: String
    public var at: Date
    public var format: ExportFormat
    public var rows: Int
    public var pseudonyms: [String]
    /// The files written, in the order written (not stored: empty when read back with `exports()`).
    public var files: [String] = []
    public init(id: String, at: Date, format: ExportFormat, rows: Int, pseudonyms: [String], files: [String] = []) {
        self.id = id
        self.at = at
        self.format = format
        self.rows = rows
        self.pseudonyms = pseudonyms
        self.files = files
    }
}

public enum ExportError: Error, Sendable, Equatable, CustomStringConvertible {
    case fileExists(String)

    public var description: String {
        switch self {
        case .fileExists(let path): return "\(path) exists already; an export never overwrites a file"
        }
    }
}

/// RFC 4180: comma-separated, CRLF line ends, a field quoted when it holds a comma, quote or line break.
public enum CSV {
    public static func line(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }

    static func field(_ text: String) -> String {
        // Scalars, not Characters: "\r\n" is one Character and would slip past a Character test.
        guard text.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
