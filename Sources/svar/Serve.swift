import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import SvarAssets
import SvarInstruments
import SvarWeb

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the Svar HTTP service (configured by SVAR_HOST, SVAR_PORT and the other SVAR_* variables).",
        discussion: "Serves /health and /metrics (Prometheus). Stops cleanly on SIGTERM or SIGINT."
    )

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let settings: ServerSettings
        let catalogue: InstrumentCatalogue
        do {
            settings = try ServerSettings.fromEnvironment(environment)
            catalogue = try InstrumentLoader.catalogue(try AssetDirectories.resolve(environment: environment))
        } catch {
            throw fail("cannot start: \(error)")
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        var logger = Logger(label: "svar")
        logger.logLevel = environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let app = buildApplication(
            settings,
            services: AppServices(catalogue: catalogue, metrics: registry, version: Svar.version),
            logger: logger
        )
        try await app.runService()
    }
}
