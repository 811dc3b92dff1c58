import Foundation
import Logging
import NIOSSL
import PostgresNIO
import SvarStore

/// The server-side limits every connection of Svar's sets at start-up, so a stuck statement or a forgotten
/// transaction cannot hold locks or keep VACUUM from cleaning up for long.
enum SessionLimits {
    static let parameters: [(String, String)] = [
        ("application_name", "svar"),
        ("statement_timeout", "60s"),
        ("lock_timeout", "30s"),
        ("idle_in_transaction_session_timeout", "60s"),
    ]
}

extension PostgresEndpoint {
    /// The pool's configuration: at most `poolSize` connections.
    func clientConfiguration() throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch self.tls {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(try tlsConfiguration())
        case .require, .verifyFull: tls = .require(try tlsConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
        configuration.options.maximumConnections = max(1, poolSize)
        configuration.options.additionalStartupParameters = SessionLimits.parameters
        return configuration
    }

    /// One connection's configuration, for the start-up probe (PostgresClient waits quietly for a database
    /// that is not there; a single connection says why it failed).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch self.tls {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(try NIOSSLContext(configuration: try tlsConfiguration()))
        case .require, .verifyFull: tls = .require(try NIOSSLContext(configuration: try tlsConfiguration()))
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    private func tlsConfiguration() throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch tls {
        case .disable, .prefer, .require:
            // libpq's `prefer` and `require`: encrypted, the certificate not checked.
            configuration.certificateVerification = .none
        case .verifyFull:
            configuration.certificateVerification = .fullVerification
            if let rootCertificatePath { configuration.trustRoots = .file(rootCertificatePath) }
        }
        return configuration
    }

    /// Waits until the database answers, trying again with growing pauses (¼ s doubling up to 5 s) for at most
    /// `seconds`; a refused password or a missing database is not worth waiting for and fails at once. The
    /// error names the host and port, never the password.
    public func waitUntilReachable(seconds: Int, logger: Logger) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        var pause = Duration.milliseconds(250)
        var attempt = 0
        while true {
            attempt += 1
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: try connectionConfiguration(), id: attempt, logger: logger)
                try await connection.close()
                return
            } catch {
                let reason = redacted(Self.reason(error))
                let left = deadline - ContinuousClock.now
                if Self.isPermanent(error) || left <= .zero {
                    throw DatabaseUnreachable(address: address, database: database, attempts: attempt, reason: reason)
                }
                logger.warning(
                    "cannot reach PostgreSQL yet; trying again",
                    metadata: ["address": "\(address)", "reason": "\(reason)", "pause": "\(min(pause, left))"])
                try await Task.sleep(for: min(pause, left))
                pause = min(pause * 2, .seconds(5))
            }
        }
    }

    /// What went wrong in words: PostgresNIO's errors describe themselves generically on purpose, so the server's
    /// message (with its detail and SQLSTATE) or the network error is taken out. Never the password (`redacted`).
    public static func reason(_ error: any Error) -> String {
        guard let psql = error as? PSQLError else { return String(describing: error) }
        if let message = psql.serverInfo?[.message] {
            let detail = psql.serverInfo?[.detail].map { " (\($0))" } ?? ""
            let state = psql.serverInfo?[.sqlState].map { " [SQLSTATE \($0)]" } ?? ""
            return message + detail + state
        }
        if let underlying = psql.underlying { return String(describing: underlying) }
        return String(describing: psql.code)
    }

    /// SQLSTATE class 28 (the role or password was refused) and 3D000 (no such database): waiting changes nothing.
    static func isPermanent(_ error: any Error) -> Bool {
        guard let state = (error as? PSQLError)?.serverInfo?[.sqlState] else { return false }
        return state.hasPrefix("28") || state == "3D000"
    }

    /// An error of this database's in words, without the password.
    public func explain(_ error: any Error) -> String { redacted(Self.reason(error)) }

    /// A message from below with the password taken out, should any layer ever echo it.
    public func redacted(_ text: String) -> String {
        guard let password, !password.isEmpty else { return text }
        return text.replacingOccurrences(of: password, with: "***")
    }
}

/// PostgreSQL could not be reached at start-up within the time allowed.
public struct DatabaseUnreachable: Error, Sendable, CustomStringConvertible {
    public var address: String
    public var database: String
    public var attempts: Int
    public var reason: String
    public var description: String {
        "cannot reach PostgreSQL database '\(database)' at \(address) (\(attempts) attempt\(attempts == 1 ? "" : "s")): \(reason)"
    }
}

/// Reads a `postgres://` URL into the pool's configuration (tests and tools that hold a URL).
enum PostgresURL {
    static func configuration(_ url: String, poolSize: Int) throws -> PostgresClient.Configuration {
        guard case .postgres(let endpoint) = try DatabaseLocation.parse(url, poolSize: poolSize) else {
            throw LocationProblem("'\(url)' is not a postgres:// URL")
        }
        return try endpoint.clientConfiguration()
    }
}
