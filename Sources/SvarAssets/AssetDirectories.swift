import Foundation

/// Where Svar's data folders are: the copies bundled with the executable, unless the operator points
/// `SVAR_INSTRUMENTS_DIR` / `SVAR_WEB_DIR` at their own, plus the folder for installed (licensed) text packs.
public struct AssetDirectories: Sendable, Equatable {
    public var instruments: URL
    public var web: URL
    public var textPacks: URL

    public init(instruments: URL, web: URL, textPacks: URL) {
        self.instruments = instruments
        self.web = web
        self.textPacks = textPacks
    }

    /// The bundled folders, overridden by the environment.
    public static func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws(AssetError) -> AssetDirectories {
        let instruments = try directory(environment["SVAR_INSTRUMENTS_DIR"], variable: "SVAR_INSTRUMENTS_DIR", bundled: "instruments")
        let web = try directory(environment["SVAR_WEB_DIR"], variable: "SVAR_WEB_DIR", bundled: "web")
        let textPacks = URL(fileURLWithPath: environment["SVAR_TEXT_PACKS_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "text-packs")
        return AssetDirectories(instruments: instruments, web: web, textPacks: textPacks)
    }

    private static func directory(_ configured: String?, variable: String, bundled name: String) throws(AssetError) -> URL {
        if let configured, !configured.isEmpty {
            let url = URL(fileURLWithPath: configured)
            guard isDirectory(url) else {
                throw AssetError("\(variable)=\(configured): not a directory")
            }
            return url
        }
        guard let url = Bundle.module.url(forResource: name, withExtension: nil), isDirectory(url) else {
            throw AssetError("the bundled '\(name)' folder is missing next to the executable; set \(variable)")
        }
        return url
    }

    static func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}

/// A problem finding or reading Svar's data files, said so an operator can fix it.
public struct AssetError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
