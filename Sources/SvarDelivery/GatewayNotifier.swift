import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL
import SvarInstruments

/// Where the SMS / notification gateway is and what it expects, from `SVAR_SMS_URL`, `SVAR_SMS_HEADER`,
/// `SVAR_SMS_BODY` and `SVAR_SMS_CA_FILE`. Gateways differ in their JSON; the body template says how.
public struct GatewaySettings: Sendable {
    public static let defaultBody = #"{"to":"{{to}}","message":"{{text}}","reference":"{{id}}"}"#

    public var url: URL
    public var header: (name: String, value: String)?
    public var bodyTemplate: String
    public var caFile: String?
    public var timeout: TimeInterval = 15

    public init(url text: String, header: String? = nil, body: String? = nil, caFile: String? = nil) throws(DeliveryConfigurationError) {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty,
            scheme == "https" || scheme == "http"
        else {
            throw DeliveryConfigurationError(variable: "SVAR_SMS_URL", reason: "'\(text)' is not an https URL")
        }
        if scheme == "http", !["127.0.0.1", "::1", "[::1]", "localhost"].contains(host) {
            throw DeliveryConfigurationError(variable: "SVAR_SMS_URL", reason: "must be https (plain http only to this machine)")
        }
        self.url = url
        if let header, !header.isEmpty {
            let parts = header.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
                parts[0].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" })
            else {
                throw DeliveryConfigurationError(
                    variable: "SVAR_SMS_HEADER", reason: "must be 'Name: value', e.g. 'Authorization: Bearer …'")
            }
            self.header = (parts[0], parts[1])
        }
        bodyTemplate = (body?.isEmpty == false ? body : nil) ?? Self.defaultBody
        let sample = Self.render(bodyTemplate, to: "+4700000000", text: "a \"quoted\"\nline", id: "x")
        guard (try? JSONSerialization.jsonObject(with: Data(sample.utf8))) != nil else {
            throw DeliveryConfigurationError(
                variable: "SVAR_SMS_BODY",
                reason: "is not JSON once filled in; put {{to}}, {{text}} and {{id}} inside JSON strings")
        }
        if let caFile, !caFile.isEmpty {
            guard FileManager.default.isReadableFile(atPath: caFile) else {
                throw DeliveryConfigurationError(variable: "SVAR_SMS_CA_FILE", reason: "cannot read \(caFile)")
            }
            self.caFile = caFile
        }
    }

    /// Fills `{{to}}`, `{{text}}` and `{{id}}` with JSON-escaped values.
    static func render(_ template: String, to: String, text: String, id: String) -> String {
        template.replacingOccurrences(of: "{{to}}", with: jsonEscaped(to))
            .replacingOccurrences(of: "{{text}}", with: jsonEscaped(text))
            .replacingOccurrences(of: "{{id}}", with: jsonEscaped(id))
    }

    /// The inside of a JSON string literal: the project's own JSON writer, without the quotes.
    static func jsonEscaped(_ text: String) -> String {
        String(JSONValue.string(text).serialized.dropFirst().dropLast())
    }
}

extension HTTPClient {
    /// A client for one of Svar's peers (SMS gateway, registry): the system's CAs plus an optional PEM CA file,
    /// a 5 s connect and `timeout` read limit, and no redirects (a redirect could carry data elsewhere).
    static func peer(caFile: String?, timeout: TimeInterval) throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile {
            tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(caFile))]
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(Int64(timeout)))
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}

/// Sends SMS (or app notifications) by POSTing JSON to a gateway over HTTPS. 2xx is sent; 408, 429 and
/// 5xx are retried (honouring `Retry-After`); 401/403 are the operator's to fix, so also retried; any other
/// 4xx means the gateway will not take this recipient.
public final class GatewayNotifier: Notifier {
    public let channel = Channel.sms
    public let settings: GatewaySettings
    private let client: HTTPClient

    public init(settings: GatewaySettings) throws {
        self.settings = settings
        client = try HTTPClient.peer(caFile: settings.caFile, timeout: settings.timeout)
    }

    public func shutdown() async throws {
        try await client.shutdown()
    }

    public func deliver(_ messages: [OutgoingMessage]) async -> [DeliveryOutcome] {
        var outcomes: [DeliveryOutcome] = []
        for message in messages {
            outcomes.append(await send(message))
        }
        return outcomes
    }

    /// Digits with an optional leading `+`, 8 to 15 of them (E.164); spaces are dropped.
    static func normalisedNumber(_ text: String) -> String? {
        let compact = text.filter { $0 != " " && $0 != "-" }
        let digits = compact.hasPrefix("+") ? compact.dropFirst() : Substring(compact)
        guard (8...15).contains(digits.count), digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return compact
    }

    private func send(_ message: OutgoingMessage) async -> DeliveryOutcome {
        guard let number = Self.normalisedNumber(message.recipient) else {
            return .permanent(reason: "the mobile number is not valid")
        }
        var request = HTTPClientRequest(url: settings.url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Idempotency-Key", value: message.messageId)
        if let header = settings.header { request.headers.add(name: header.name, value: header.value) }
        request.body = .bytes(
            ByteBuffer(string: GatewaySettings.render(settings.bodyTemplate, to: number, text: message.text, id: message.messageId)))
        do {
            let response = try await client.execute(request, timeout: .seconds(Int64(settings.timeout)))
            let status = Int(response.status.code)
            _ = try? await response.body.collect(upTo: 64 * 1024)
            switch status {
            case 200..<300:
                return .sent
            case 408, 429, 500..<600:
                return .transient(
                    reason: "gateway answered \(status)", retryAfter: Self.retryAfter(response.headers.first(name: "Retry-After")))
            case 401, 403:
                return .transient(reason: "gateway refused Svar's credentials (\(status)); check SVAR_SMS_HEADER")
            default:
                return .permanent(reason: "gateway refused the message (\(status))")
            }
        } catch {
            return .transient(reason: "gateway unreachable: \(String(describing: error).prefix(200))")
        }
    }

    /// `Retry-After` as seconds or as an HTTP date, capped at an hour: a peer cannot park Svar's queue for days.
    static func retryAfter(_ value: String?) -> TimeInterval? {
        parsedRetryAfter(value).map { min($0, maximumRetryAfter) }
    }

    static let maximumRetryAfter: TimeInterval = 3600

    private static func parsedRetryAfter(_ value: String?) -> TimeInterval? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int(value), seconds >= 0 { return TimeInterval(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.date(from: value).map { max(0, $0.timeIntervalSinceNow) }
    }
}
