import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import SvarDomain
import SvarInstruments
import SvarServices
import SvarStore

/// What the HTTP application needs from the rest of Svar; built once in `svar serve` (or by a test).
public struct AppServices: Sendable {
    public let configuration: SvarConfiguration
    public let catalogue: InstrumentCatalogue
    public let store: any Store
    public let enrolment: Enrolment
    public let pathways: Pathways
    public let links: LinkIssuer
    public let answering: PatientAnswering
    public let pages: PageRenderer
    public let accounts: ClinicianAccounts
    /// Verifies OIDC access tokens on the API, when `SVAR_OIDC_*` is configured.
    public let accessTokens: AccessTokens?
    public let vault: IdentityVault
    /// Norwegian population norms for the RAND-36 profile chart (instruments/rand36/norms.json), if on file.
    public let norms: ScaleNorms?
    /// Whether the thank-you page shows the patient their results once (the protocol's `patientFeedback`).
    public var patientFeedback = false
    public let metrics: PrometheusCollectorRegistry
    public let version: String
    /// The current time; tests pass a fixed clock.
    public let now: @Sendable () -> Date

    public init(
        configuration: SvarConfiguration, catalogue: InstrumentCatalogue, store: any Store, enrolment: Enrolment,
        pathways: Pathways, links: LinkIssuer, pages: PageRenderer, vault: IdentityVault,
        secondFactor: ScheduleProtocol.SecondFactor, metrics: PrometheusCollectorRegistry, version: String,
        accounts: ClinicianAccounts? = nil, accessTokens: AccessTokens? = nil, norms: ScaleNorms? = nil,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.configuration = configuration
        self.catalogue = catalogue
        self.store = store
        self.enrolment = enrolment
        self.pathways = pathways
        self.links = links
        self.answering = PatientAnswering(store: store, links: links, catalogue: catalogue, vault: vault, secondFactor: secondFactor)
        self.pages = pages
        self.accounts = accounts ?? ClinicianAccounts(store: store, vault: vault)
        self.accessTokens = accessTokens
        self.vault = vault
        self.norms = norms
        self.metrics = metrics
        self.version = version
        self.now = now
    }
}

/// The request context: Hummingbird's core storage, the client address (for rate limiting failed links), and
/// who is calling once a middleware has authenticated them.
public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    public var principal: Principal?
    /// The signed-in clinician on the clinician pages (set by their session middleware).
    public var clinician: Clinician?
    /// The clinician session's CSRF token (clinician pages only).
    public var sessionCSRF: String?

    /// API responses: sorted keys, `/` unescaped (`JSONText`).
    public var responseEncoder: JSONEncoder { JSONText.encoder() }

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client to count failures against (`SVAR_TRUSTED_PROXIES` decides whether X-Forwarded-For is believed).
    func clientKey(_ request: Request, _ configuration: SvarConfiguration) -> String {
        SvarDomain.clientKey(
            peer: remoteAddress?.ipAddress, forwardedFor: request.headers[.xForwardedFor],
            trustedProxies: configuration.trustedProxies)
    }
}

extension HTTPField.Name {
    static let xForwardedFor = Self("X-Forwarded-For")!
}

/// The router with every route Svar serves. The authorization matrix test reads its route table, so a new
/// route cannot go untested.
public func buildRouter(_ services: AppServices) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.middlewares.add(SecurityHeadersMiddleware(strictTransportSecurity: services.configuration.publicURL.hasPrefix("https://")))
    router.middlewares.add(MetricsMiddleware())
    router.middlewares.add(APIProblemMiddleware())
    router.middlewares.add(CalmErrorPagesMiddleware(pages: services.pages))
    HealthController(services: services).addRoutes(to: router)
    APIController(services: services).addRoutes(to: router.group("api/v1"))
    PatientController(
        services: services, limiter: RecentFailures(limit: 30, window: 600),
        stepPages: StepPages(pages: services.pages, contactText: services.configuration.contactText)
    )
    .addRoutes(to: router)
    ClinicianController(services: services, loginFailures: RecentFailures(limit: 20, window: 600)).addRoutes(to: router)
    router.add(middleware: FileMiddleware(services.pages.staticDirectory, urlBasePath: "/static", searchForIndexHtml: false))
    return router
}

/// Builds the Svar HTTP application. Tests call this directly (HummingbirdTesting); `svar serve` runs it.
public func buildApplication(
    _ services: AppServices,
    extraServices: [any Service] = [],
    logger: Logger = Logger(label: "svar")
) -> some ApplicationProtocol {
    // An idle connection (or one holding a half-sent request) is closed after a minute by default, and request
    // headers are limited to 16 KiB in all: slow or bloated clients cannot hold the server's connections or memory.
    let http = HTTP1Channel.Configuration(
        idleTimeout: .seconds(Int64(services.configuration.idleTimeoutSeconds)),
        httpDecoderConfiguration: .init(maxHeaderFieldSize: 8 * 1024, maxHeaderListSize: 16 * 1024, maxHeaderFieldCount: 100))
    var app = Application(
        router: buildRouter(services),
        server: .http1(configuration: http),
        configuration: .init(address: .hostname(services.configuration.host, port: services.configuration.port), serverName: "svar"),
        logger: logger
    )
    app.addServices(extraServices)
    return app
}

extension AppServices {
    /// A milestone's name for people, from the protocol file (the id when the file gives none).
    func milestoneLabel(_ id: String, _ language: Language = .nb) -> String {
        pathways.scheduleProtocol.milestone(id)?.label(language.rawValue) ?? id
    }
}
