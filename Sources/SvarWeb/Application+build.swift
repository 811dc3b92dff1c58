import Foundation
import Hummingbird
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
    public let metrics: PrometheusCollectorRegistry
    public let version: String
    /// The current time; tests pass a fixed clock.
    public let now: @Sendable () -> Date

    public init(configuration: SvarConfiguration, catalogue: InstrumentCatalogue, store: any Store, enrolment: Enrolment,
                pathways: Pathways, links: LinkIssuer, pages: PageRenderer, vault: IdentityVault,
                secondFactor: ScheduleProtocol.SecondFactor, metrics: PrometheusCollectorRegistry, version: String,
                now: @escaping @Sendable () -> Date = Date.init) {
        self.configuration = configuration
        self.catalogue = catalogue
        self.store = store
        self.enrolment = enrolment
        self.pathways = pathways
        self.links = links
        self.answering = PatientAnswering(store: store, links: links, catalogue: catalogue, vault: vault, secondFactor: secondFactor)
        self.pages = pages
        self.metrics = metrics
        self.version = version
        self.now = now
    }
}

/// The request context: Hummingbird's core storage plus the client address (for rate limiting failed links).
public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// Builds the Svar HTTP application. Tests call this directly (HummingbirdTesting); `svar serve` runs it.
public func buildApplication(
    _ services: AppServices,
    extraServices: [any Service] = [],
    logger: Logger = Logger(label: "svar")
) -> some ApplicationProtocol {
    let router = Router(context: AppRequestContext.self)
    router.middlewares.add(SecurityHeadersMiddleware(strictTransportSecurity: services.configuration.publicURL.hasPrefix("https://")))
    router.middlewares.add(MetricsMiddleware())
    HealthController(services: services).addRoutes(to: router)
    APIController(services: services).addRoutes(to: router.group("api/v1"))
    PatientController(services: services, limiter: FailedLinkLimiter()).addRoutes(to: router)
    router.add(middleware: FileMiddleware(services.pages.staticDirectory, urlBasePath: "/static", searchForIndexHtml: false))
    var app = Application(
        router: router,
        configuration: .init(address: .hostname(services.configuration.host, port: services.configuration.port), serverName: "svar"),
        logger: logger
    )
    app.addServices(extraServices)
    return app
}
