import Foundation
import Hummingbird
import SvarInstruments
import SvarServices

/// Reads `application/x-www-form-urlencoded` bodies (at most 64 KiB) into `Decodable` form types with Hummingbird's
/// `URLEncodedFormDecoder`; a body that is no such form is a 400. Absent fields decode as nil, so each page still
/// says itself what is missing.
enum FormBody {
    static let maximumSize = 64 * 1024

    static func read<Form: Decodable>(_ type: Form.Type, from request: Request) async throws -> Form {
        let buffer = try await request.body.collect(upTo: maximumSize)
        do {
            return try URLEncodedFormDecoder().decode(Form.self, from: String(buffer: buffer))
        } catch {
            throw HTTPError(.badRequest, message: "the form could not be read")
        }
    }
}

/// The CSRF field every form carries (checked against the double-submit cookie on the patient and login pages,
/// against the session's token on the clinician pages).
struct CSRFForm: Decodable {
    var csrf: String?
}

/// Every cookie Svar sets, made in one place: HttpOnly, SameSite=Strict, and Secure when the public URL is https
/// (usually behind a TLS-terminating proxy, so the request itself cannot tell).
struct Cookies: Sendable {
    let secure: Bool

    init(_ configuration: SvarConfiguration) { secure = configuration.publicURL.hasPrefix("https:") }

    func make(_ name: String, _ value: String, maxAge: Int? = nil, path: String = "/") -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: path, secure: secure, httpOnly: true, sameSite: .strict)
    }
}

extension AppServices {
    var cookies: Cookies { Cookies(configuration) }
}

extension Language {
    /// `path?lang=xx`: the patient pages carry their language in the URL, so every link and form keeps it.
    func url(_ path: String) -> String { "\(path)?lang=\(rawValue)" }
}
