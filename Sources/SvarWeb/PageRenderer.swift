import Foundation
import Hummingbird
import Mustache
import SvarInstruments

/// Renders the patient pages from the Mustache templates and UI text packs under `web/`, parsed once at
/// start-up.
public struct PageRenderer: Sendable {
    let library: MustacheLibrary
    let texts: [Language: [String: String]]
    let staticDirectory: String

    public static func load(webDirectory: URL) async throws -> PageRenderer {
        let library = try await MustacheLibrary(directory: webDirectory.appendingPathComponent("templates").path)
        var texts: [Language: [String: String]] = [:]
        for language in Language.allCases {
            let file = webDirectory.appendingPathComponent("i18n/\(language.rawValue).json")
            let data = try Data(contentsOf: file)
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: String] else {
                throw PageError("\(file.path): must be an object of texts")
            }
            texts[language] = object
        }
        let keys = Set(texts[.nb]?.keys.map { $0 } ?? [])
        for (language, pack) in texts where Set(pack.keys) != keys {
            throw PageError("web/i18n/\(language.rawValue).json: its keys differ from nb.json")
        }
        return PageRenderer(library: library, texts: texts, staticDirectory: webDirectory.appendingPathComponent("static").path)
    }

    func text(_ key: String, _ language: Language) -> String { texts[language]?[key] ?? key }

    /// The common context of every page, merged with the page's own.
    func render(
        _ template: String, language: Language, title: String, context: [String: Any], languageURL: (Language) -> String,
        csrf: String, status: HTTPResponse.Status = .ok
    ) -> Response {
        var full: [String: Any] = [
            "lang": language.rawValue, "pageTitle": title, "t": texts[language] ?? [:], "csrf": csrf,
            "accessibilityURL": language.url("/tilgjengelighet"),
            "languages": Language.allCases.map { code -> [String: Any] in
                ["code": code.rawValue, "name": PageRenderer.languageName(code), "url": languageURL(code), "current": code == language]
            },
        ]
        full.merge(context) { _, new in new }
        return html(template, full, status: status)
    }

    /// One rendered page as a response (the patient and the clinician pages alike).
    func html(_ template: String, _ context: [String: Any], status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        guard let html = library.render(context, withTemplate: template) else {
            return Response(
                status: .internalServerError, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "template \(template) is missing")))
        }
        var all = headers
        all[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: all, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func languageName(_ language: Language) -> String {
        switch language {
        case .nb: return "Bokmål"
        case .nn: return "Nynorsk"
        case .en: return "English"
        }
    }
}

struct PageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
