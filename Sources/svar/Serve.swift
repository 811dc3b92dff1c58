import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import SvarAssets
import SvarInstruments
import SvarServices
import SvarWeb

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the Svar HTTP service, with the scheduler, delivery and forwarding workers as background services.",
        discussion: """
            Configured by the SVAR_* environment variables (README). Refuses to start without SVAR_VAULT_KEY.
            Serves /health, /metrics (Prometheus) and the JSON API under /api/v1. Stops cleanly on SIGTERM or SIGINT.
            """
    )

    func run() async throws {
        let runtime = try await Runtime.load()
        try await serve(runtime)
    }
}

func serve(
    _ runtime: Runtime, environment: [String: String] = ProcessInfo.processInfo.environment,
    now: @escaping @Sendable () -> Date = Date.init
) async throws {
    let registry = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    var logger = Logger(label: "svar")
    logger.logLevel = Logger.Level(rawValue: runtime.configuration.logLevel) ?? .info
    let config = runtime.configuration
    let links: LinkIssuer
    do {
        links = try await LinkIssuer.load(store: runtime.store, vault: runtime.vault, publicURL: config.publicURL, now: now())
    } catch {
        throw fail("cannot start: \(error)")
    }
    let pages: PageRenderer
    do {
        pages = try await PageRenderer.load(webDirectory: runtime.directories.web)
    } catch {
        throw fail("cannot start: web templates (SVAR_WEB_DIR): \(error)")
    }
    let accessTokens: AccessTokens?
    let norms: ScaleNorms?
    let accounts: ClinicianAccounts
    do {
        accessTokens = try await AccessTokens.fromEnvironment(environment)
        accounts = try ClinicianAccounts.fromEnvironment(environment, store: runtime.store, vault: runtime.vault, configuration: config)
        norms = try NormsLoader.norms(instrument: "rand36", directories: runtime.directories)
    } catch {
        throw fail("cannot start: \(error)")
    }
    var services = AppServices(
        configuration: config, catalogue: runtime.catalogue, store: runtime.store,
        enrolment: Enrolment(store: runtime.store, vault: runtime.vault, mode: config.mode),
        pathways: Pathways(store: runtime.store, scheduleProtocol: runtime.scheduleProtocol),
        links: links, pages: pages, vault: runtime.vault, secondFactor: runtime.scheduleProtocol.secondFactor, metrics: registry,
        version: Svar.version,
        accounts: accounts, accessTokens: accessTokens, norms: norms, now: now)
    services.patientFeedback = runtime.scheduleProtocol.patientFeedback
    var background: [any Service] = []
    if config.workers.contains(.scheduler) {
        background.append(
            PeriodicPass.scheduler(SchedulerPass(store: runtime.store, scheduleProtocol: runtime.scheduleProtocol), logger: logger))
    }
    if config.workers.contains(.outbox) {
        let delivery = try loadDelivery(runtime, environment: environment)
        let pass = try await makeDeliveryPass(runtime, delivery: delivery, links: links, logger: logger, now: now())
        background.append(PeriodicPass.delivery(pass, logger: logger, onShutdown: { await delivery.shutdown() }))
        if let mailbox = delivery.mailboxDirectory {
            logger.notice("e-mail goes to the file mailbox (SVAR_SMTP_URL is not set)", metadata: ["folder": "\(mailbox.path)"])
        }
    }
    if config.workers.contains(.forwarder) {
        let forwarding = try await loadForwarding(runtime, environment: environment)
        background.append(
            PeriodicPass.forwarding(
                makeForwardingPass(runtime, forwarding, logger: logger), logger: logger,
                onShutdown: { await forwarding.shutdown() }))
        logger.notice("results are forwarded", metadata: ["recipient": "\(forwarding.target.recipient)"])
    }
    if config.apiToken == nil && accessTokens == nil {
        logger.warning("neither SVAR_API_TOKEN nor SVAR_OIDC_* is set: the JSON API answers 401 to every call")
    }
    let app = buildApplication(services, extraServices: background, logger: logger)
    try await app.runService()
}
