import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Prometheus
import SvarAssets
import SvarDomain
import SvarInstruments
import SvarServices
import SvarWeb
import Testing

@Suite struct HealthTests {
    @Test func healthReportsOKAndTheLoadedInstruments() async throws {
        let app = try await TestApp.make().application
        try await app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                let body = try JSONParser.parse(String(buffer: response.body))
                #expect(body["status"] == .string("ok"))
                #expect(body["instruments"] == .array(["eq5d-3l", "eq5d-5l", "kvarus-followup", "rand36"].map(JSONValue.string)))
            }
        }
    }

    @Test func metricsArePrometheusText() async throws {
        let app = try await TestApp.make().application
        try await app.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                let text = String(buffer: response.body)
                #expect(text.contains("# TYPE svar_instruments_loaded gauge"))
                #expect(text.contains("svar_instruments_loaded 4"))
                #expect(text.contains("svar_value_sets_loaded 14"))
            }
        }
    }

    @Test func metricsCanBeLimitedToTheScraperWithItsToken() async throws {
        let app = try await TestApp.make(configure: { $0.metricsToken = "metrics-token-0123456789" }).application
        try await app.test(.router) { client in
            for header in [nil, "Bearer wrong-token-0123456789", "Bearer \(apiToken)"] {
                var headers = HTTPFields()
                if let header { headers[.authorization] = header }
                let status = try await client.execute(uri: "/metrics", method: .get, headers: headers) { $0.status }
                #expect(status == .unauthorized, "\(header ?? "no header")")
            }
            let status = try await client.execute(
                uri: "/metrics", method: .get, headers: [.authorization: "Bearer metrics-token-0123456789"]
            ) {
                $0.status
            }
            #expect(status == .ok)
        }
    }

    @Test func everyResponseCarriesStrictSecurityHeaders() async throws {
        let app = try await TestApp.make().application
        try await app.test(.router) { client in
            for uri in ["/health", "/metrics", "/no-such-page"] {
                try await client.execute(uri: uri, method: .get) { response in
                    let csp = response.headers[.contentSecurityPolicy] ?? ""
                    #expect(csp.contains("default-src 'self'"))
                    #expect(!csp.contains("unsafe-inline"))
                    #expect(response.headers[.xContentTypeOptions] == "nosniff")
                    #expect(response.headers[.cacheControl] == "no-store")
                    #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
                }
            }
        }
    }

    @Test func hstsIsSentWhenThePublicURLIsHTTPS() async throws {
        let app = try await TestApp.make()  // publicURL https://svar.test
        try await app.application.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.headers[.strictTransportSecurity]?.hasPrefix("max-age=") == true)
            }
        }
    }

    @Test func theServerAnswersOverRealLoopbackHTTP() async throws {
        let app = try await TestApp.make().application
        try await app.test(.live) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }
}

@Suite struct ConfigurationTests {
    @Test func defaultsAreLoopback8080AndSQLite() throws {
        let c = try SvarConfiguration.fromEnvironment([:])
        #expect(c.host == "127.0.0.1" && c.port == 8080 && c.database == .sqlite(path: "svar.sqlite") && c.mode == .production)
        #expect(c.workers == [.scheduler, .outbox, .forwarder])
        let d = try SvarConfiguration.fromEnvironment([
            "SVAR_HOST": "::1", "SVAR_PORT": "9000", "SVAR_DATABASE_URL": "sqlite:/tmp/x.db",
            "SVAR_WORKERS": "outbox", "SVAR_MODE": "demo",
        ])
        #expect(d.host == "::1" && d.port == 9000 && d.database == .sqlite(path: "/tmp/x.db") && d.workers == [.outbox] && d.mode == .demo)
        #expect(try SvarConfiguration.fromEnvironment(["SVAR_WORKERS": "none"]).workers.isEmpty)
        #expect(c.rolesRequiringTOTP == [.kvarusKontakt, .registryAdmin] && c.trustedProxies.isEmpty && c.metricsToken == nil)
    }

    @Test func theSecuritySettingsAreReadStrictly() throws {
        let c = try SvarConfiguration.fromEnvironment([
            "SVAR_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8,::1", "SVAR_REQUIRE_TOTP": "all",
            "SVAR_METRICS_TOKEN": "metrics-token-0123456789",
        ])
        #expect(c.trustedProxies.count == 3 && c.rolesRequiringTOTP == Set(Role.allCases) && c.metricsToken != nil)
        #expect(try SvarConfiguration.fromEnvironment(["SVAR_REQUIRE_TOTP": "none"]).rolesRequiringTOTP.isEmpty)
        for url in ["https://svar.sykehus.no", "http://127.0.0.1:8080", "http://[::1]:8080", "http://localhost:8080"] {
            #expect(try SvarConfiguration.fromEnvironment(["SVAR_PUBLIC_URL": url]).publicURL == url, "production accepts \(url)")
        }
        #expect(
            try SvarConfiguration.fromEnvironment(["SVAR_PUBLIC_URL": "http://svar.test", "SVAR_MODE": "demo"]).publicURL
                == "http://svar.test",
            "a demo may run on plain http")
    }

    @Test func aDatabaseURLIsNeverEchoedWithItsPassword() throws {
        let error = #expect(throws: ConfigurationProblem.self) {
            try SvarConfiguration.fromEnvironment(["SVAR_DATABASE_URL": "postgres://svar:S3cret-pw@db.example:5432/"])
        }
        #expect(error?.variable == "SVAR_DATABASE_URL")
        #expect(
            error?.description.contains("S3cret-pw") == false && error?.description.contains("svar:***@db.example") == true,
            "\(String(describing: error))")
        let accepted = try SvarConfiguration.fromEnvironment(["SVAR_DATABASE_URL": "postgres://svar:S3cret-pw@db.example:5432/svar"])
        #expect(!String(describing: accepted).contains("S3cret-pw") && String(describing: accepted).contains("svar:***@db.example"))
    }

    @Test(arguments: [
        ("SVAR_PORT", "http"), ("SVAR_PORT", "70000"), ("SVAR_MODE", "prod"), ("SVAR_WORKERS", "mailer"),
        ("SVAR_DATABASE_URL", "mysql://x"), ("SVAR_PUBLIC_URL", "ftp://x"), ("SVAR_API_TOKEN", "short"),
        ("SVAR_PUBLIC_URL", "http://svar.sykehus.no"), ("SVAR_TRUSTED_PROXIES", "10.0.0.0/8, proxy.local"),
        ("SVAR_REQUIRE_TOTP", "behandler,doctor"), ("SVAR_METRICS_TOKEN", "short"),
    ])
    func aBadValueNamesTheVariable(_ variable: String, _ value: String) {
        let error = #expect(throws: ConfigurationProblem.self) { try SvarConfiguration.fromEnvironment([variable: value]) }
        #expect(error?.variable == variable)
    }
}
