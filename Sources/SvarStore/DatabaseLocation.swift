import Foundation

/// Where an installation keeps its data, read from `SVAR_DATABASE_URL`: the engine is chosen by the URL's
/// scheme, so the same commands run on an embedded SQLite file or a shared PostgreSQL database.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresEndpoint)

    /// `sqlite:PATH`, or `postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=…]` (also `postgresql://`).
    /// `password` (from a file) is used when the URL has none; a password in both places is refused, so an
    /// operator never wonders which one is in force.
    public static func parse(_ url: String, password: String? = nil, poolSize: Int = PostgresEndpoint.defaultPoolSize)
        throws(LocationProblem) -> DatabaseLocation
    {
        if url.hasPrefix("sqlite:") {
            let path = String(url.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw LocationProblem("'sqlite:' needs a file path, as in sqlite:/var/lib/svar/svar.sqlite") }
            guard password == nil else { throw LocationProblem("a password applies only to a PostgreSQL database") }
            return .sqlite(path: path)
        }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            return .postgres(try PostgresEndpoint.parse(url, password: password, poolSize: poolSize))
        }
        throw LocationProblem("'\(PostgresEndpoint.redacting(url))' is neither sqlite:PATH nor postgres://USER@HOST/DB")
    }

    /// The location as it may be shown: never with a password.
    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite:\(path)"
        case .postgres(let endpoint): return endpoint.description
        }
    }
}

/// A PostgreSQL database to connect to. It carries the password, so its `description` (what logs and errors
/// print) replaces it with `***`.
public struct PostgresEndpoint: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable, CaseIterable {
        /// No TLS (a database on the same host or a private network).
        case disable
        /// TLS when the server offers it, unchecked (libpq's default, and Svar's when the URL names no mode).
        case prefer
        /// TLS, the server's certificate not checked (libpq's `require`): protects against eavesdropping only.
        case require
        /// TLS with the certificate checked against the trusted roots (or `sslrootcert`) and the host name.
        case verifyFull = "verify-full"
    }

    public static let defaultPoolSize = 10
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// A PEM file of the certificate authorities to trust with `verify-full` (`sslrootcert=PATH`); nil: the
    /// system's roots.
    public var rootCertificatePath: String?
    /// At most this many connections per process (`SVAR_DATABASE_POOL`).
    public var poolSize: Int

    public init(
        host: String, port: Int = 5432, user: String, password: String? = nil, database: String, tls: TLSMode = .prefer,
        rootCertificatePath: String? = nil, poolSize: Int = defaultPoolSize
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.tls = tls
        self.rootCertificatePath = rootCertificatePath
        self.poolSize = poolSize
    }

    static func parse(_ url: String, password filePassword: String?, poolSize: Int) throws(LocationProblem) -> PostgresEndpoint {
        let shown = redacting(url)
        guard let parts = URLComponents(string: url), let host = parts.host, !host.isEmpty else {
            throw LocationProblem("'\(shown)' is not a URL of the form postgres://USER[:PASSWORD]@HOST[:PORT]/DB")
        }
        guard let user = parts.user, !user.isEmpty else { throw LocationProblem("'\(shown)' names no user (postgres://USER@HOST/DB)") }
        let database = parts.path.hasPrefix("/") ? String(parts.path.dropFirst()) : parts.path
        guard !database.isEmpty, !database.contains("/") else {
            throw LocationProblem("'\(shown)' names no database (postgres://USER@HOST/DB)")
        }
        if parts.password != nil, filePassword != nil {
            throw LocationProblem("the password is both in the URL and in SVAR_DATABASE_PASSWORD_FILE: keep one")
        }
        var endpoint = PostgresEndpoint(
            host: host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host, port: parts.port ?? 5432, user: user,
            password: parts.password ?? filePassword, database: database, poolSize: poolSize)
        guard (1...65535).contains(endpoint.port) else { throw LocationProblem("'\(shown)': \(endpoint.port) is not a port number") }
        for item in parts.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw LocationProblem("sslmode '\(item.value ?? "")' is not one of disable, prefer, require, verify-full")
                }
                endpoint.tls = mode
            case "sslrootcert":
                guard let path = item.value, !path.isEmpty else { throw LocationProblem("sslrootcert needs a file path") }
                endpoint.rootCertificatePath = path
            default:
                throw LocationProblem("'\(item.name)' is not a setting Svar knows in a database URL (sslmode, sslrootcert)")
            }
        }
        if endpoint.rootCertificatePath != nil, endpoint.tls != .verifyFull {
            throw LocationProblem("sslrootcert applies only with sslmode=verify-full")
        }
        return endpoint
    }

    /// `host:port` as a person reads it in an error ("cannot reach db.example:5432").
    public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public var description: String {
        let secret = password == nil ? "" : ":***"
        let query = tls == .prefer ? "" : "?sslmode=\(tls.rawValue)"
        return "postgres://\(user)\(secret)@\(address)/\(database)\(query)"
    }

    /// `url` with the password (if any) replaced by `***`, for a message about a URL that did not parse.
    public static func redacting(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].lastIndex(of: "@") else { return url }
        let credentials = url[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return String(url[..<url.index(after: colon)]) + "***" + String(url[at...])
    }
}

/// A database location that cannot be used, with the reason in words (the caller names the variable).
public struct LocationProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Where the local registry store lives (`SVAR_REGISTRY_STORE`): a SQLite file of its own, or a schema of its
/// own in a PostgreSQL database (Svar's, or another one given by URL), always apart from Svar's tables.
public enum RegistryArchiveLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    /// A schema in the same database as Svar's own tables (sharing its pool).
    case schemaBesideSvar(String)
    case postgres(PostgresEndpoint, schema: String)

    public static let defaultSchema = "registry"

    /// `configured` is `SVAR_REGISTRY_STORE` (a path, `sqlite:PATH` or a `postgres://` URL); without it the store
    /// sits beside Svar's database: `registry.sqlite` in the same folder, or the `registry` schema.
    public static func resolve(_ configured: String?, beside database: DatabaseLocation, password: String? = nil) throws(LocationProblem)
        -> RegistryArchiveLocation
    {
        guard let configured, !configured.isEmpty else {
            switch database {
            case .sqlite(let path):
                let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
                return .sqlite(path: folder.appendingPathComponent("registry.sqlite").path)
            case .postgres: return .schemaBesideSvar(defaultSchema)
            }
        }
        let location: RegistryArchiveLocation
        if configured.hasPrefix("postgres://") || configured.hasPrefix("postgresql://") {
            guard case .postgres(let endpoint) = try DatabaseLocation.parse(configured, password: password, poolSize: 2) else {
                throw LocationProblem("'\(PostgresEndpoint.redacting(configured))' is not a postgres:// URL")
            }
            location = .postgres(endpoint, schema: defaultSchema)
        } else {
            guard password == nil else { throw LocationProblem("a password applies only to a PostgreSQL registry store") }
            let path = configured.hasPrefix("sqlite:") ? String(configured.dropFirst("sqlite:".count)) : configured
            guard !path.isEmpty else { throw LocationProblem("'sqlite:' needs a file path") }
            location = .sqlite(path: path)
        }
        if case .sqlite(let path) = location, case .sqlite(let own) = database,
            URL(fileURLWithPath: path).standardizedFileURL == URL(fileURLWithPath: own).standardizedFileURL
        {
            throw LocationProblem("must be a database of its own, not Svar's")
        }
        return location
    }

    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite:\(path)"
        case .schemaBesideSvar(let schema): return "schema \(schema) of Svar's PostgreSQL database"
        case .postgres(let endpoint, let schema): return "schema \(schema) of \(endpoint)"
        }
    }
}
