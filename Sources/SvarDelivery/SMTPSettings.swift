import Foundation
import SvarDomain

/// Where and how to submit mail, from `SVAR_SMTP_URL`, `SVAR_MAIL_FROM`, `SVAR_SMTP_CA_FILE` and `SVAR_SMTP_TLS`.
/// Credentials are kept apart from the URL so they never appear in a log line or an error.
public struct SMTPSettings: Sendable, Equatable {
    public enum Security: String, Sendable {
        /// `smtp://`: STARTTLS (see `requiresTLS`).
        case startTLSWhenOffered
        /// `smtps://`: TLS from the first byte.
        case implicitTLS
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var username: String?
    public var password: String?
    public var from: String
    public var caFile: String?
    /// Whether a message may go out only over TLS. Yes unless the server is on this machine (loopback) or
    /// `SVAR_SMTP_TLS=off` says otherwise: anyone on the path could strip an optional STARTTLS and read the
    /// links. With credentials, TLS is required on loopback too, so a password never crosses in clear.
    public var requiresTLS: Bool
    public var connectTimeout: Int = 10
    public var messageTimeout: Int = 60

    /// The URL libcurl connects to, without credentials.
    public var serverURL: String {
        let scheme = security == .implicitTLS ? "smtps" : "smtp"
        return "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }

    /// What libcurl is given: the path becomes the EHLO name, so Svar greets with its sender domain (relays
    /// may refuse a bare `localhost`).
    var curlURL: String { serverURL + "/" + (from.split(separator: "@").last.map(String.init) ?? "localhost") }

    public init(url text: String, from: String, caFile: String? = nil, tls: String? = nil) throws(DeliveryConfigurationError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else {
            throw DeliveryConfigurationError(
                variable: "SVAR_SMTP_URL", reason: "'\(Self.redacted(text))' is not smtp://host:port or smtps://host:port")
        }
        switch scheme {
        case "smtp": security = .startTLSWhenOffered
        case "smtps": security = .implicitTLS
        default:
            throw DeliveryConfigurationError(variable: "SVAR_SMTP_URL", reason: "the scheme must be smtp or smtps, not '\(scheme)'")
        }
        guard components.path.isEmpty || components.path == "/", components.query == nil else {
            throw DeliveryConfigurationError(variable: "SVAR_SMTP_URL", reason: "takes no path or query, only [user:password@]host:port")
        }
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        port = components.port ?? (security == .implicitTLS ? 465 : 587)
        guard (1...65535).contains(port) else {
            throw DeliveryConfigurationError(variable: "SVAR_SMTP_URL", reason: "port \(port) is not 1–65535")
        }
        username = components.user?.removingPercentEncoding
        password = components.password?.removingPercentEncoding
        if (username == nil) != (password == nil) {
            throw DeliveryConfigurationError(
                variable: "SVAR_SMTP_URL", reason: "give both user and password (user:password@host), or neither")
        }
        switch tls {
        case nil, "": requiresTLS = security == .implicitTLS || username != nil || !isLoopbackHost(self.host)
        case "required": requiresTLS = true
        case "off": requiresTLS = security == .implicitTLS
        case let other?: throw DeliveryConfigurationError(variable: "SVAR_SMTP_TLS", reason: "'\(other)' is not required or off")
        }
        let address = from.trimmingCharacters(in: .whitespaces)
        guard Self.isPlainAddress(address) else {
            throw DeliveryConfigurationError(
                variable: "SVAR_MAIL_FROM", reason: "'\(from)' is not an e-mail address like svar@hospital.example")
        }
        self.from = address
        if let caFile, !caFile.isEmpty {
            guard FileManager.default.isReadableFile(atPath: caFile) else {
                throw DeliveryConfigurationError(variable: "SVAR_SMTP_CA_FILE", reason: "cannot read \(caFile)")
            }
            self.caFile = caFile
        }
    }

    /// One `@`, no spaces or angle brackets: the only shape Svar puts in MAIL FROM and RCPT TO.
    public static func isPlainAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !parts[1].hasPrefix(".") && !parts[1].hasSuffix(".")
            && !text.contains(where: { $0.isWhitespace || "<>\"(),;:\\[]".contains($0) })
    }

    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? "(unreadable)"
    }
}

/// A delivery setting that cannot work, named by its environment variable.
public struct DeliveryConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let variable: String
    public let reason: String
    public init(variable: String, reason: String) {
        self.variable = variable
        self.reason = reason
    }
    public var description: String { "\(variable): \(reason)" }
}
