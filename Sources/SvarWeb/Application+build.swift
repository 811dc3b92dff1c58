import Hummingbird
import Logging
import Prometheus
import SvarInstruments

/// What the HTTP application needs from the rest of Svar; built once in `svar serve` (or by a test).
public struct AppServices: Sendable {
    public let catalogue: InstrumentCatalogue
    public let metrics: PrometheusCollectorRegistry
    public let version: String

    public init(catalogue: InstrumentCatalogue, metrics: PrometheusCollectorRegistry, version: String) {
        self.catalogue = catalogue
        self.metrics = metrics
        self.version = version
    }
}

public typealias AppRequestContext = BasicRequestContext

/// Builds the Svar HTTP application. Tests call this directly (HummingbirdTesting); `svar serve` runs it.
public func buildApplication(
    _ settings: ServerSettings,
    services: AppServices,
    logger: Logger = Logger(label: "svar")
) -> some ApplicationProtocol {
    let router = Router(context: AppRequestContext.self)
    router.middlewares.add(SecurityHeadersMiddleware())
    router.middlewares.add(MetricsMiddleware())
    HealthController(services: services).addRoutes(to: router)
    return Application(
        router: router,
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "svar"),
        logger: logger
    )
}
