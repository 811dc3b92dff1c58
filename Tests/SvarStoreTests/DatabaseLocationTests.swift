import Foundation
import Logging
import SvarPostgres
import SvarServices
import SvarStore
import SvarTestSupport
import Testing

/// `SVAR_DATABASE_URL` and its companions: what is accepted, what is refused (naming the variable), and that a
/// password never shows.
struct DatabaseLocationTests {
    @Test func aPostgresURLIsReadWithItsPartsAndShownWithoutItsPassword() throws {
        let location = try DatabaseLocation.parse("postgresql://svar:s%40cret@db.example:6432/svar?sslmode=verify-full", poolSize: 4)
        guard case .postgres(let endpoint) = location else {
            Issue.record("not postgres: \(location)")
            return
        }
        #expect(endpoint.host == "db.example" && endpoint.port == 6432 && endpoint.user == "svar" && endpoint.database == "svar")
        #expect(endpoint.password == "s@cret" && endpoint.tls == .verifyFull && endpoint.poolSize == 4)
        #expect(location.description == "postgres://svar:***@db.example:6432/svar?sslmode=verify-full")
        #expect(!String(describing: endpoint).contains("cret"))
        let plain = try DatabaseLocation.parse("postgres://svar@[::1]/svar")
        #expect(plain.description == "postgres://svar@[::1]:5432/svar")
        #expect(try DatabaseLocation.parse("sqlite:/var/lib/svar/svar.sqlite") == .sqlite(path: "/var/lib/svar/svar.sqlite"))
    }

    @Test(arguments: [
        ("mysql://svar:pw1234@db/svar", "neither sqlite:PATH nor postgres://"),
        ("postgres://svar:pw1234@db", "names no database"),
        ("postgres://db/svar", "names no user"),
        ("postgres://svar:pw1234@db/svar?sslmode=allow", "sslmode 'allow'"),
        ("postgres://svar:pw1234@db/svar?sslrootcert=/ca.pem", "only with sslmode=verify-full"),
        ("postgres://svar:pw1234@db/svar?connect_timeout=3", "'connect_timeout' is not a setting"),
        ("sqlite:", "needs a file path"),
    ])
    func aBadURLIsRefusedInWordsWithoutThePassword(url: String, expected: String) {
        do {
            let location = try DatabaseLocation.parse(url)
            Issue.record("accepted \(url) as \(location)")
        } catch {
            #expect(error.reason.contains(expected), "\(error.reason)")
            #expect(!error.reason.contains("pw1234"), "\(error.reason)")
        }
    }

    @Test func thePasswordComesFromAFileAndNotFromTwoPlaces() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("svar-pw-\(UUID().uuidString)")
        try Data("from-the-file\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let env = ["SVAR_DATABASE_URL": "postgres://svar@db/svar", "SVAR_DATABASE_PASSWORD_FILE": file.path, "SVAR_DATABASE_POOL": "7"]
        let configuration = try SvarConfiguration.fromEnvironment(env)
        guard case .postgres(let endpoint) = configuration.database else {
            Issue.record("not postgres")
            return
        }
        #expect(endpoint.password == "from-the-file" && endpoint.poolSize == 7)
        var both = env
        both["SVAR_DATABASE_URL"] = "postgres://svar:other@db/svar"
        #expect(throws: ConfigurationProblem.self) { try SvarConfiguration.fromEnvironment(both) }
        for (name, value) in [
            ("SVAR_DATABASE_POOL", "0"), ("SVAR_DATABASE_POOL", "many"), ("SVAR_DATABASE_PASSWORD_FILE", "/nonexistent/pw"),
            ("SVAR_DATABASE_CONNECT_TIMEOUT", "-1"),
        ] {
            var bad = env
            bad[name] = value
            do {
                _ = try SvarConfiguration.fromEnvironment(bad)
                Issue.record("accepted \(name)=\(value)")
            } catch {
                #expect(error.variable == name)
            }
        }
        // A password file without a PostgreSQL URL is a mistake, not something to ignore.
        #expect(throws: ConfigurationProblem.self) { try SvarConfiguration.fromEnvironment(["SVAR_DATABASE_PASSWORD_FILE": file.path]) }
    }

    @Test func theRegistryStoreSitsBesideSvarsDatabaseUnlessToldOtherwise() throws {
        let sqlite = DatabaseLocation.sqlite(path: "/data/svar.sqlite")
        #expect(try RegistryArchiveLocation.resolve(nil, beside: sqlite) == .sqlite(path: "/data/registry.sqlite"))
        #expect(try RegistryArchiveLocation.resolve("sqlite:/r/reg.db", beside: sqlite) == .sqlite(path: "/r/reg.db"))
        #expect(throws: LocationProblem.self) { try RegistryArchiveLocation.resolve("/data/svar.sqlite", beside: sqlite) }
        let postgres = try DatabaseLocation.parse("postgres://svar@db/svar")
        #expect(try RegistryArchiveLocation.resolve(nil, beside: postgres) == .schemaBesideSvar("registry"))
        let own = try RegistryArchiveLocation.resolve("postgres://reg:pw@regdb/registry", beside: postgres)
        #expect(own.description == "schema registry of postgres://reg:***@regdb:5432/registry")
    }

    @Test func anUnreachableDatabaseIsNamedByHostAndPortAfterABoundedWait() async throws {
        // A port nothing listens on (bound and closed again).
        let endpoint = PostgresEndpoint(
            host: "127.0.0.1", port: try closedPort(), user: "svar", password: "hunter2-secret", database: "svar")
        let started = ContinuousClock.now
        do {
            try await endpoint.waitUntilReachable(seconds: 2, logger: Logger(label: "test"))
            Issue.record("reached a closed port")
        } catch let error as DatabaseUnreachable {
            // Tried again while time was left (on a loaded machine one refused connection can take the whole limit).
            #expect(error.attempts >= 2 || ContinuousClock.now - started >= .seconds(2), "\(error.attempts) attempt(s)")
            #expect(error.description.contains("127.0.0.1:\(endpoint.port)"))
            #expect(!error.description.contains("hunter2"))
            // Bounded: pauses of 0.25, 0.5 and 1 s and what is left of the 2 s allow at most five attempts (counted,
            // not timed: a loaded machine stretches the time, not the count).
            #expect(error.attempts <= 5, "\(error.attempts) attempts")
        }
    }

    @Test(.enabled(if: PostgresTestDatabase.url != nil, "SVAR_TEST_POSTGRES_URL is not set"))
    func aRefusedPasswordFailsAtOnceWithoutShowingIt() async throws {
        guard case .postgres(var endpoint) = try DatabaseLocation.parse(try #require(PostgresTestDatabase.url)) else { return }
        endpoint.password = "not-the-password-42"
        do {
            try await endpoint.waitUntilReachable(seconds: 30, logger: Logger(label: "test"))
            Issue.record("a wrong password was accepted")
        } catch let error as DatabaseUnreachable {
            #expect(error.attempts == 1)
            #expect(error.reason.contains("password authentication failed"))
            // One attempt: a refused password is not tried again (the limit is 30 s, so no wall clock is needed).
            #expect(!error.description.contains("not-the-password-42"))
        }
    }
}

/// A loopback port with nothing listening on it.
func closedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw POSIXError(.EADDRINUSE) }
    return Int(UInt16(bigEndian: address.sin_port))
}
