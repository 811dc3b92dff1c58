import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Prometheus
import SvarAssets
import SvarInstruments
import SvarWeb
import Testing

let sourceInstruments = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Sources/SvarAssets/instruments")

func testServices() throws -> AppServices {
    AppServices(catalogue: try InstrumentLoader.catalogue(instruments: sourceInstruments),
                metrics: PrometheusCollectorRegistry(), version: "test")
}

@Suite struct HealthTests {
    @Test func healthReportsOKAndTheLoadedInstruments() async throws {
        let app = buildApplication(ServerSettings(port: 0), services: try testServices())
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
        let app = buildApplication(ServerSettings(port: 0), services: try testServices())
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

    @Test func everyResponseCarriesStrictSecurityHeaders() async throws {
        let app = buildApplication(ServerSettings(port: 0), services: try testServices())
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

    @Test func theServerAnswersOverRealLoopbackHTTP() async throws {
        let app = buildApplication(ServerSettings(host: "127.0.0.1", port: 0), services: try testServices())
        try await app.test(.live) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }
}

@Suite struct ServerSettingsTests {
    @Test func defaultsAreLoopbackAnd8080() throws {
        #expect(try ServerSettings.fromEnvironment([:]) == ServerSettings(host: "127.0.0.1", port: 8080))
        #expect(try ServerSettings.fromEnvironment(["SVAR_HOST": "::1", "SVAR_PORT": "9000"]) == ServerSettings(host: "::1", port: 9000))
    }

    @Test(arguments: ["http", "70000", "-1", "80a"])
    func aBadPortNamesTheVariable(_ value: String) {
        let error = #expect(throws: ConfigurationError.self) { try ServerSettings.fromEnvironment(["SVAR_PORT": value]) }
        #expect(error?.variable == "SVAR_PORT")
    }
}
