import Foundation
import Hummingbird
import HummingbirdTesting
import Prometheus
import SvarAssets
import SvarDomain
import SvarInstruments
import SvarServices
import SvarStore
import SvarTestSupport
import SvarWeb
import Testing

let sourceInstruments = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Sources/SvarAssets/instruments")

let sourceWeb = sourceInstruments.deletingLastPathComponent().appendingPathComponent("web")

let apiToken = "test-token-0123456789abcdef"
let testVaultKey = [UInt8](repeating: 7, count: 32)

/// A fixed "now" (2026-11-22 10:00 Oslo) so pathway dates in tests never drift into the future.
let fixedNow = OsloTime.instant(LocalDate(iso: "2026-11-22")!, hour: 10)

/// A complete application over an empty store of the given engine (SQLite in memory unless asked), as
/// `svar serve` builds it.
struct TestApp {
    let services: AppServices
    let store: any TestStore
    let scheduleProtocol: ScheduleProtocol

    static func make(
        _ kind: StoreKind = .sqliteMemory, token: String? = apiToken, mode: SvarConfiguration.Mode = .test,
        secondFactor: ScheduleProtocol.SecondFactor = .none, clock: TestClock = TestClock(),
        accessTokens: AccessTokens? = nil, patientFeedback: Bool = false, configure: (inout SvarConfiguration) -> Void = { _ in }
    ) async throws -> TestApp {
        let directories = AssetDirectories(instruments: sourceInstruments, web: sourceInstruments, textPacks: sourceInstruments)
        let catalogue = try InstrumentLoader.catalogue(instruments: sourceInstruments)
        let scheduleProtocol = try ProtocolLoader.load(id: "kvarus", directories: directories, catalogue: catalogue)
        let store = try await kind.make()
        let vault = try IdentityVault(masterKey: testVaultKey)
        var configuration = SvarConfiguration()
        configuration.apiToken = token
        configuration.mode = mode
        configuration.port = 0
        configuration.publicURL = "https://svar.test"
        configure(&configuration)
        let links = try await LinkIssuer.load(store: store, vault: vault, publicURL: configuration.publicURL, now: fixedNow)
        let pages = try await PageRenderer.load(webDirectory: sourceWeb)
        var services = AppServices(
            configuration: configuration, catalogue: catalogue, store: store,
            enrolment: Enrolment(store: store, vault: vault, mode: mode),
            pathways: Pathways(store: store, scheduleProtocol: scheduleProtocol), links: links, pages: pages, vault: vault,
            secondFactor: secondFactor,
            metrics: PrometheusCollectorRegistry(), version: "test", accounts: Self.accounts(store, vault), accessTokens: accessTokens,
            norms: try NormsLoader.norms(instrument: "rand36", instruments: sourceInstruments), now: { clock.now })
        services.patientFeedback = patientFeedback
        return TestApp(services: services, store: store, scheduleProtocol: scheduleProtocol)
    }

    var application: some ApplicationProtocol { buildApplication(services) }

    /// Accounts with a cheap bcrypt cost (the tests log in often) and no TOTP requirement.
    static func accounts(_ store: any Store, _ vault: IdentityVault) -> ClinicianAccounts {
        var accounts = ClinicianAccounts(store: store, vault: vault)
        accounts.bcryptCost = 4
        accounts.rolesRequiringTOTP = []  // the TOTP requirement has tests of its own
        return accounts
    }
}

extension TestClientProtocol {
    /// Calls the API with the token and a JSON body; returns status and parsed body.
    @discardableResult
    func api(
        _ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil, token: String? = apiToken,
        contentType: String = "application/json"
    ) async throws -> (status: HTTPResponse.Status, json: JSONValue, headers: HTTPFields) {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        if body != nil { headers[.contentType] = contentType }
        return try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            let text = String(buffer: response.body)
            let json = text.isEmpty ? JSONValue.null : ((try? JSONParser.parse(text)) ?? .string(text))
            return (response.status, json, response.headers)
        }
    }
}

func synthetic(_ i: Int) -> String {
    var individual = 500 + i * 3
    while true {
        if let number = IdentityNumber.synthetic(
            birthDate: LocalDate(year: 1980 + i % 30, month: i % 12 + 1, day: i % 28 + 1)!,
            individual: individual)
        {
            return number
        }
        individual += 1
    }
}

/// A clock a test can move forward.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current = fixedNow
    var now: Date {
        get { lock.withLock { current } }
        set { lock.withLock { current = newValue } }
    }
}
