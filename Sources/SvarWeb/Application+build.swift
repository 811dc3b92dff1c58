import Foundation
import Hummingbird
import Logging
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
    public let metrics: PrometheusCollectorRegistry
    public let version: String
    /// The current time; tests pass a fixed clock.
    public let now: @Sendable () -> Date

    public init(configuration: SvarConfiguration, catalogue: InstrumentCatalogue, store: any Store, enrolment: Enrolment,
                pathways: Pathways, links: LinkIssuer, metrics: PrometheusCollectorRegistry, version: String,
                now: @escaping @Sendable () -> Date = Date.init) {
        self.configuration = configuration
        self.catalogue = catalogue
        self.store = store
        self.enrolment = enrolment
        self.pathways = pathways
        self.links = links
        self.metrics = metrics
        self.version = version
        self.now = now
    }
}

public typealias AppRequestContext = BasicRequestContext

/// Builds the Svar HTTP application. Tests call this directly (HummingbirdTesting); `svar serve` runs it.
public func buildApplication(
    _ services: AppServices,
    extraServices: [any Service] = [],
    logger: Logger = Logger(label: "svar")
) -> some ApplicationProtocol {
    let router = Router(context: AppRequestContext.self)
    router.middlewares.add(SecurityHeadersMiddleware())
    router.middlewares.add(MetricsMiddleware())
    HealthController(services: services).addRoutes(to: router)
    APIController(services: services).addRoutes(to: router.group("api/v1"))
    var app = Application(
        router: router,
        configuration: .init(address: .hostname(services.configuration.host, port: services.configuration.port), serverName: "svar"),
        logger: logger
    )
    app.addServices(extraServices)
    return app
}
