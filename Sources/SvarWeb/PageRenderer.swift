import Foundation
import Hummingbird
import Mustache
import SvarInstruments

/// Renders the patient and clinician pages from the Mustache templates and UI text packs under `web/`, parsed once
/// at start-up.
public struct PageRenderer: Sendable {
    let library: MustacheLibrary
    let texts: [Language: [String: String]]
    /// The clinician pages' texts (`web/i18n/clinician-*.json`).
    let clinicianTexts: [Language: [String: String]]
    let staticDirectory: String

    public static func load(webDirectory: URL) async throws -> PageRenderer {
        let library = try await MustacheLibrary(directory: webDirectory.appendingPathComponent("templates").path)
        return PageRenderer(
            library: library, texts: try packs(webDirectory, prefix: ""), clinicianTexts: try packs(webDirectory, prefix: "clinician-"),
            staticDirectory: webDirectory.appendingPathComponent("static").path)
    }

    /// `web/i18n/<prefix><language>.json` for every language: flat objects of texts, each with the same keys as
    /// the bokmål pack. A pack that cannot be read or differs stops start-up, naming the file.
    static func packs(_ webDirectory: URL, prefix: String) throws -> [Language: [String: String]] {
        var texts: [Language: [String: String]] = [:]
        for language in Language.allCases {
            let name = "web/i18n/\(prefix)\(language.rawValue).json"
            let file = webDirectory.appendingPathComponent("i18n/\(prefix)\(language.rawValue).json")
            let data: Data
            do {
                data = try Data(contentsOf: file)
            } catch {
                throw PageError("\(name): cannot be read (\(file.path))")
            }
            guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: String] else {
                throw PageError("\(name): must be an object of texts")
            }
            texts[language] = object
        }
        let keys = Set(texts[.nb]?.keys.map { $0 } ?? [])
        for language in Language.allCases {
            let pack = Set(texts[language]?.keys.map { $0 } ?? [])
            guard pack != keys else { continue }
            let missing = keys.subtracting(pack).sorted()
            let extra = pack.subtracting(keys).sorted()
            throw PageError(
                "web/i18n/\(prefix)\(language.rawValue).json: its keys differ from \(prefix)nb.json"
                    + (missing.isEmpty ? "" : " (missing: \(missing.joined(separator: ", ")))")
                    + (extra.isEmpty ? "" : " (not in \(prefix)nb.json: \(extra.joined(separator: ", ")))"))
        }
        return texts
    }

    func text(_ key: String, _ language: Language) -> String { texts[language]?[key] ?? key }

    /// The common context of every page, merged with the page's own.
    func render(
        _ template: String, language: Language, title: String, context: [String: Any], languageURL: (Language) -> String,
        csrf: String, status: HTTPResponse.Status = .ok
    ) -> Response {
        html(
            template, fullContext(language: language, title: title, context: context, languageURL: languageURL, csrf: csrf), status: status)
    }

    /// The page's HTML as text (a skeleton is built from it); nil if the template is missing.
    func renderText(
        _ template: String, language: Language, title: String, context: [String: Any], languageURL: (Language) -> String, csrf: String
    ) -> String? {
        library.render(
            fullContext(language: language, title: title, context: context, languageURL: languageURL, csrf: csrf), withTemplate: template)
    }

    private func fullContext(
        language: Language, title: String, context: [String: Any], languageURL: (Language) -> String, csrf: String
    ) -> [String: Any] {
        var full: [String: Any] = [
            "lang": language.rawValue, "pageTitle": title, "t": texts[language] ?? [:], "csrf": csrf,
            // The statement links back to the page it was opened from (`fra`), as the patient pages keep no history.
            "accessibilityURL": language.url("/tilgjengelighet") + "&fra=" + languageURL(language),
            "languages": Language.allCases.map { code -> [String: Any] in
                ["code": code.rawValue, "name": PageRenderer.languageName(code), "url": languageURL(code), "current": code == language]
            },
        ]
        full.merge(context) { _, new in new }
        return full
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

    /// A page already rendered to bytes (a filled skeleton), with the headers of every rendered page.
    func html(_ body: ByteBuffer, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: body))
    }

    static func languageName(_ language: Language) -> String {
        switch language {
        case .nb: return "Bokmål"
        case .nn: return "Nynorsk"
        case .en: return "English"
        }
    }
}

public struct PageError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
