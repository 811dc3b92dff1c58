import Foundation
import SvarDomain
import SvarStore

/// Svar's run-time configuration, read from the environment (a contract: see the README's table).
/// `svar serve` and `svar tick` read the same variables, so both work on the same database.
public struct SvarConfiguration: Sendable, Equatable {
    public enum Mode: String, Sendable, CaseIterable {
        case production, demo, test
        /// Synthetic identity numbers are accepted only outside production.
        public var allowsSyntheticNumbers: Bool { self != .production }
    }

    public enum Worker: String, Sendable, CaseIterable {
        case scheduler, outbox, forwarder
    }

    public var host = "127.0.0.1"
    public var port = 8080
    /// Svar's database (`SVAR_DATABASE_URL`): a SQLite file by default, or PostgreSQL.
    public var database = DatabaseLocation.sqlite(path: "svar.sqlite")
    /// How long a command keeps trying to reach PostgreSQL at start-up before it gives up
    /// (`SVAR_DATABASE_CONNECT_TIMEOUT`, seconds).
    public var databaseConnectTimeout = 30
    public var apiToken: String?
    public var publicURL = "http://127.0.0.1:8080"
    public var mode = Mode.production
    public var workers: Set<Worker> = Set(Worker.allCases)
    public var protocolId = "kvarus"
    public var logLevel = "info"
    /// Proxies whose `X-Forwarded-For` is believed (`SVAR_TRUSTED_PROXIES`); none by default.
    public var trustedProxies: [AddressRange] = []
    /// Roles that must sign in with TOTP (`SVAR_REQUIRE_TOTP`): by default those that see identity numbers or
    /// every unit.
    public var rolesRequiringTOTP: Set<Role> = [.kvarusKontakt, .registryAdmin]
    /// When set, `/metrics` answers only `Authorization: Bearer` with this token (`SVAR_METRICS_TOKEN`).
    public var metricsToken: String?
    /// Seconds an HTTP connection may sit idle, or hold a half-sent request, before it is closed
    /// (`SVAR_HTTP_IDLE_TIMEOUT`).
    public var idleTimeoutSeconds = 60
    /// The installation's own line on where a patient gets help (`SVAR_CONTACT_TEXT`), shown in the patient
    /// pages' urgent-help callout under the national numbers; nil = the national numbers only.
    public var contactText: String?
    /// Where to report an accessibility problem (`SVAR_ACCESSIBILITY_CONTACT`: an address, a phone number or one
    /// line), shown in the accessibility statement; nil = "contact those who sent you the link".
    public var accessibilityContact: String?
    /// The name beside the sender address of every e-mail (`SVAR_SENDER_NAME`). Neutral by default and by
    /// intent: it shows in a shared inbox before the message is opened, so it must name no unit or treatment.
    public var senderName = "Svar"
    /// The registry's own texts on the patient's rights page (`SVAR_REGISTRY_NAME` …); unset = said to be unset.
    public var registry = RegistryInformation()
    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    public init() {}

    public static func fromEnvironment(_ env: [String: String]) throws(ConfigurationProblem) -> SvarConfiguration {
        var c = SvarConfiguration()
        func value(_ name: String) -> String? { env[name].flatMap { $0.isEmpty ? nil : $0 } }
        if let host = value("SVAR_HOST") {
            let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:")
            let octets = host.split(separator: ".", omittingEmptySubsequences: false)
            let looksIPv4 = host.allSatisfy { $0.isNumber || $0 == "." }
            let validIPv4 = octets.count == 4 && octets.allSatisfy { Int($0).map { (0...255).contains($0) } ?? false }
            guard host.count <= 253, host.allSatisfy(allowed.contains), !looksIPv4 || validIPv4 else {
                throw ConfigurationProblem(variable: "SVAR_HOST", reason: "'\(host)' is not a host name or IP address")
            }
            c.host = host
        }
        if let text = value("SVAR_PORT") {
            guard let port = Int(text), (0...65535).contains(port) else {
                throw ConfigurationProblem(variable: "SVAR_PORT", reason: "'\(text)' is not a port number (0–65535)")
            }
            c.port = port
        }
        c.publicURL = "http://\(c.host.contains(":") ? "[\(c.host)]" : c.host):\(c.port)"
        c.database = try Self.database(value)
        if let text = value("SVAR_DATABASE_CONNECT_TIMEOUT") {
            guard let seconds = Int(text), (0...3600).contains(seconds) else {
                throw ConfigurationProblem(
                    variable: "SVAR_DATABASE_CONNECT_TIMEOUT", reason: "'\(text)' is not a number of seconds from 0 to 3600")
            }
            c.databaseConnectTimeout = seconds
        }
        c.apiToken = value("SVAR_API_TOKEN")
        if let token = c.apiToken, token.count < 16 {
            throw ConfigurationProblem(variable: "SVAR_API_TOKEN", reason: "must be at least 16 characters")
        }
        if let url = value("SVAR_PUBLIC_URL") {
            guard let parsed = URL(string: url), let scheme = parsed.scheme, ["http", "https"].contains(scheme), parsed.host != nil else {
                throw ConfigurationProblem(variable: "SVAR_PUBLIC_URL", reason: "'\(url)' is not an http(s) URL")
            }
            c.publicURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        if let mode = value("SVAR_MODE") {
            guard let parsed = Mode(rawValue: mode) else {
                throw ConfigurationProblem(variable: "SVAR_MODE", reason: "'\(mode)' is not one of production, demo, test")
            }
            c.mode = parsed
        }
        if let text = value("SVAR_WORKERS") {
            c.workers = try Self.choice(of: Worker.self, "SVAR_WORKERS", text, what: "worker")
        }
        if c.mode == .production, let url = URL(string: c.publicURL), url.scheme == "http",
            !(url.host.map { isLoopbackHost($0) } ?? false)
        {
            throw ConfigurationProblem(
                variable: "SVAR_PUBLIC_URL",
                reason: "'\(c.publicURL)' is not https: patients' links must not travel in clear (http is allowed only for a loopback host)"
            )
        }
        if let text = value("SVAR_TRUSTED_PROXIES") {
            guard let ranges = AddressRange.list(text) else {
                throw ConfigurationProblem(
                    variable: "SVAR_TRUSTED_PROXIES", reason: "'\(text)' is not a comma-separated list of addresses or CIDR ranges")
            }
            c.trustedProxies = ranges
        }
        if let text = value("SVAR_REQUIRE_TOTP") {
            c.rolesRequiringTOTP = try Self.choice(of: Role.self, "SVAR_REQUIRE_TOTP", text, what: "role")
        }
        if let token = value("SVAR_METRICS_TOKEN") {
            guard token.count >= 16 else {
                throw ConfigurationProblem(variable: "SVAR_METRICS_TOKEN", reason: "must be at least 16 characters")
            }
            c.metricsToken = token
        }
        if let text = value("SVAR_HTTP_IDLE_TIMEOUT") {
            guard let seconds = Int(text), (1...3600).contains(seconds) else {
                throw ConfigurationProblem(
                    variable: "SVAR_HTTP_IDLE_TIMEOUT", reason: "'\(text)' is not a number of seconds from 1 to 3600")
            }
            c.idleTimeoutSeconds = seconds
        }
        if let text = value("SVAR_CONTACT_TEXT") { c.contactText = try Self.checkedContactText(text) }
        if let text = value("SVAR_ACCESSIBILITY_CONTACT") {
            c.accessibilityContact = try Self.checkedContactText(text, variable: "SVAR_ACCESSIBILITY_CONTACT")
        }
        if let text = value("SVAR_SENDER_NAME") { c.senderName = try Self.checkedSenderName(text) }
        c.registry = try Self.registryInformation(value)
        if let id = value("SVAR_PROTOCOL") { c.protocolId = id }
        if let level = value("LOG_LEVEL") {
            guard logLevels.contains(level) else {
                throw ConfigurationProblem(variable: "LOG_LEVEL", reason: "'\(level)' is not one of \(logLevels.joined(separator: ", "))")
            }
            c.logLevel = level
        }
        return c
    }

    /// `SVAR_DATABASE_URL` with `SVAR_DATABASE_PASSWORD_FILE` and `SVAR_DATABASE_POOL`.
    static func database(_ value: (String) -> String?) throws(ConfigurationProblem) -> DatabaseLocation {
        var poolSize = PostgresEndpoint.defaultPoolSize
        if let text = value("SVAR_DATABASE_POOL") {
            guard let n = Int(text), (1...500).contains(n) else {
                throw ConfigurationProblem(variable: "SVAR_DATABASE_POOL", reason: "'\(text)' is not a number of connections from 1 to 500")
            }
            poolSize = n
        }
        var password: String?
        if let path = value("SVAR_DATABASE_PASSWORD_FILE") {
            do {
                password = try Self.password(file: path)
            } catch {
                throw ConfigurationProblem(variable: "SVAR_DATABASE_PASSWORD_FILE", reason: error.reason)
            }
        }
        guard let url = value("SVAR_DATABASE_URL") else {
            if password != nil {
                throw ConfigurationProblem(
                    variable: "SVAR_DATABASE_PASSWORD_FILE", reason: "applies only with SVAR_DATABASE_URL=postgres://…")
            }
            return .sqlite(path: "svar.sqlite")
        }
        do {
            return try DatabaseLocation.parse(url, password: password, poolSize: poolSize)
        } catch {
            throw ConfigurationProblem(variable: "SVAR_DATABASE_URL", reason: error.reason)
        }
    }

    /// A password kept in a file (a mounted secret): its content without the last line end (`echo secret > file`).
    public static func password(file path: String) throws(LocationProblem) -> String {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw LocationProblem("cannot read \(path)")
        }
        let trimmed = text.hasSuffix("\r\n") ? String(text.dropLast(2)) : text.hasSuffix("\n") ? String(text.dropLast()) : text
        guard !trimmed.isEmpty else { throw LocationProblem("\(path) is empty") }
        return trimmed
    }

    /// A set of named cases: `all`, `none`, or a comma-separated list; an unknown name is refused with the
    /// names that exist.
    static func choice<Case: RawRepresentable & CaseIterable & Hashable>(
        of: Case.Type, _ variable: String, _ text: String, what: String
    ) throws(ConfigurationProblem) -> Set<Case> where Case.RawValue == String {
        switch text {
        case "all": return Set(Case.allCases)
        case "none": return []
        default:
            var chosen = Set<Case>()
            for name in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                guard let value = Case(rawValue: name) else {
                    let names = Case.allCases.map(\.rawValue).joined(separator: ", ")
                    throw ConfigurationProblem(variable: variable, reason: "'\(name)' is not a \(what) (all, none, or a list of \(names))")
                }
                chosen.insert(value)
            }
            return chosen
        }
    }
}

/// A URL fit for an error message or a log line: any password in it replaced by `***`.
public struct ConfigurationProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public let variable: String
    public let reason: String
    public init(variable: String, reason: String) {
        self.variable = variable
        self.reason = reason
    }
    public var description: String { "\(variable): \(reason)" }
}
