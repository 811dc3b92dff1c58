import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL
import SvarInstruments
import SvarRegistry

/// Where the registry's FHIR server is, from `SVAR_REGISTRY_URL` (the FHIR base), `SVAR_REGISTRY_TOKEN`
/// (bearer) and `SVAR_REGISTRY_CA_FILE`; `SVAR_REGISTRY_IDENTITY=number` when the registry is entitled to
/// the identity number (the pseudonym is sent otherwise).
public struct RegistrySettings: Sendable {
    public var base: URL
    public var token: String?
    public var caFile: String?
    public var sendsIdentityNumber = false
    public var timeout: TimeInterval = 30

    public init(base text: String, token: String?, caFile: String?, identity: String?) throws(DeliveryConfigurationError) {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty,
            scheme == "https" || scheme == "http", url.query == nil
        else {
            let shown = text.replacingOccurrences(of: #"//[^/@]*@"#, with: "//…@", options: .regularExpression)
            throw DeliveryConfigurationError(variable: "SVAR_REGISTRY_URL", reason: "'\(shown)' is not an https URL of a FHIR base")
        }
        if scheme == "http", !["127.0.0.1", "::1", "[::1]", "localhost"].contains(host) {
            throw DeliveryConfigurationError(variable: "SVAR_REGISTRY_URL", reason: "must be https (plain http only to this machine)")
        }
        // The URL is written to the log and the disclosure log: credentials belong in SVAR_REGISTRY_TOKEN.
        guard url.user == nil, url.password == nil else {
            throw DeliveryConfigurationError(
                variable: "SVAR_REGISTRY_URL", reason: "must not carry a user or password; use SVAR_REGISTRY_TOKEN")
        }
        base = url
        if let token, !token.isEmpty {
            guard token.allSatisfy({ $0.isASCII && !$0.isWhitespace && !$0.isNewline }) else {
                throw DeliveryConfigurationError(variable: "SVAR_REGISTRY_TOKEN", reason: "must be one word of printable ASCII")
            }
            self.token = token
        }
        if let caFile, !caFile.isEmpty {
            guard FileManager.default.isReadableFile(atPath: caFile) else {
                throw DeliveryConfigurationError(variable: "SVAR_REGISTRY_CA_FILE", reason: "cannot read \(caFile)")
            }
            self.caFile = caFile
        }
        switch identity ?? "" {
        case "", "pseudonym": sendsIdentityNumber = false
        case "number": sendsIdentityNumber = true
        case let other:
            throw DeliveryConfigurationError(variable: "SVAR_REGISTRY_IDENTITY", reason: "'\(other)' is not one of pseudonym, number")
        }
    }
}

/// Forwards Bundles to a FHIR server: POST of a `transaction` Bundle to the base with a bearer token and
/// `Idempotency-Key`. 2xx with every entry 200/201 is accepted; timeouts, refused connections, 408, 429
/// (honouring `Retry-After`), 5xx and 401/403 (the operator's to fix) are retried; other 4xx are refused for
/// good and go to the dead-letter list.
public final class FHIRRegistryClient: RegistryTarget {
    public let settings: RegistrySettings
    private let client: HTTPClient
    public var recipient: String { "FHIR registry \(settings.base.absoluteString)" }
    public var identityUse: IdentityUse { settings.sendsIdentityNumber ? .patientIdentifier : .pseudonymOnly }

    public init(settings: RegistrySettings) throws {
        self.settings = settings
        client = try HTTPClient.peer(caFile: settings.caFile, timeout: settings.timeout)
    }

    public func shutdown() async throws {
        try await client.shutdown()
    }

    public func submit(_ submission: RegistrySubmission) async -> ForwardOutcome {
        var request = HTTPClientRequest(url: settings.base.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/fhir+json")
        request.headers.add(name: "Accept", value: "application/fhir+json")
        request.headers.add(name: "Idempotency-Key", value: submission.idempotencyKey)
        if let token = settings.token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.body = .bytes(ByteBuffer(string: submission.bundle))
        do {
            let response = try await client.execute(request, timeout: .seconds(Int64(settings.timeout)))
            let status = Int(response.status.code)
            let body = (try? await response.body.collect(upTo: 4 * 1024 * 1024)).map { String(buffer: $0) } ?? ""
            switch status {
            case 200..<300:
                return Self.receipt(body, status: status)
            case 408, 429, 500..<600:
                return .transient(
                    reason: "registry answered \(status)\(Self.issue(body))",
                    retryAfter: GatewayNotifier.retryAfter(response.headers.first(name: "Retry-After")))
            case 401, 403:
                return .transient(reason: "registry refused Svar's credentials (\(status)); check SVAR_REGISTRY_TOKEN", retryAfter: nil)
            default:
                return .permanent(reason: "registry refused the Bundle (\(status))\(Self.issue(body))")
            }
        } catch {
            return .transient(reason: "registry unreachable: \(String(describing: error).prefix(200))", retryAfter: nil)
        }
    }

    /// A FHIR server keeps its own copy; Svar cannot erase there. The report says so, for the letter to the patient.
    public func erase(pseudonym: String, at: Date) async throws -> ErasureReport {
        ErasureReport(kept: [
            "data already forwarded to \(recipient) stays there: the deletion must be carried out by that registry (§ 3-3)"
        ])
    }

    /// Reads the `transaction-response`: every entry must be 200 or 201; the receipt names where they went.
    static func receipt(_ body: String, status: Int) -> ForwardOutcome {
        guard let json = try? JSONParser.parse(body), json["resourceType"]?.stringValue == "Bundle",
            case .array(let entries)? = json["entry"]
        else {
            return .accepted(detail: "HTTP \(status)")
        }
        var locations: [String] = []
        for entry in entries {
            let code = entry["response"]?["status"]?.stringValue ?? ""
            guard code.hasPrefix("200") || code.hasPrefix("201") else {
                return .permanent(reason: "registry answered \(status) but an entry has status '\(code.prefix(40))'")
            }
            locations.append("\(code.prefix(3)) \(entry["response"]?["location"]?.stringValue ?? "")")
        }
        return .accepted(detail: "HTTP \(status): " + locations.joined(separator: ", "))
    }

    /// The first diagnostics of an OperationOutcome, for the dead-letter list (never the Bundle itself).
    static func issue(_ body: String) -> String {
        guard let json = try? JSONParser.parse(body), json["resourceType"]?.stringValue == "OperationOutcome",
            case .array(let issues)? = json["issue"], let first = issues.first
        else { return "" }
        let text = first["diagnostics"]?.stringValue ?? first["details"]?["text"]?.stringValue ?? first["code"]?.stringValue ?? ""
        return text.isEmpty ? "" : ": \(text.prefix(300))"
    }
}
