import Foundation
import Logging
import Metrics
import ServiceLifecycle
import SvarStore

/// Runs one worker's pass (scheduler, delivery, forwarding) at a fixed interval inside `svar serve`, until
/// graceful shutdown. A failed pass is logged by error type only (never data) and the next one runs on time.
public struct PeriodicPass: Service {
    let name: String
    let interval: Duration
    let logger: Logger
    /// Returns what to log after a pass that did something, nil after an idle one.
    let pass: @Sendable (Date) async throws -> Logger.Metadata?
    let onShutdown: @Sendable () async -> Void

    public init(
        name: String, interval: Duration, logger: Logger, onShutdown: @escaping @Sendable () async -> Void = {},
        pass: @escaping @Sendable (Date) async throws -> Logger.Metadata?
    ) {
        self.name = name
        self.interval = interval
        self.logger = logger
        self.pass = pass
        self.onShutdown = onShutdown
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if let metadata = try await pass(Date()) {
                    logger.info("\(name) pass", metadata: metadata)
                }
            } catch {
                logger.error("\(name) pass failed", metadata: ["error.type": "\(type(of: error))"])
            }
            // Wake at once on SIGTERM/SIGINT instead of finishing the interval.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        await onShutdown()
    }
}

extension PeriodicPass {
    /// Counts a pass's outcomes for /metrics (`svar_<worker>_total{outcome=…}`), so operations can alert on
    /// dead letters or undeliverable invitations without reading the database.
    static func count(_ worker: String, _ outcomes: [(String, Int)]) {
        for (outcome, n) in outcomes where n > 0 {
            Counter(label: "svar_\(worker)_total", dimensions: [("outcome", outcome)]).increment(by: Int64(n))
        }
    }

    /// The scheduler, every minute.
    public static func scheduler(_ pass: SchedulerPass, logger: Logger, interval: Duration = .seconds(60)) -> PeriodicPass {
        PeriodicPass(name: "scheduler", interval: interval, logger: logger) { now in
            let report = try await pass.run(now: now)
            count(
                "scheduler",
                [("invited", report.invited), ("reminded", report.reminded), ("expired", report.expired), ("nudges", report.nudges)])
            guard report != TickReport() else { return nil }
            return [
                "invited": "\(report.invited)", "reminded": "\(report.reminded)", "expired": "\(report.expired)",
                "nudges": "\(report.nudges)",
            ]
        }
    }

    /// The delivery worker, every ten seconds.
    public static func delivery(
        _ pass: DeliveryPass, logger: Logger, interval: Duration = .seconds(10),
        onShutdown: @escaping @Sendable () async -> Void
    ) -> PeriodicPass {
        PeriodicPass(name: "delivery", interval: interval, logger: logger, onShutdown: onShutdown) { now in
            let report = try await pass.run(now: now)
            count(
                "delivery",
                [
                    ("sent", report.sent), ("retrying", report.retrying), ("next_channel", report.nextChannel),
                    ("undeliverable", report.undeliverable),
                ])
            guard report != DeliveryPass.Report() else { return nil }
            return [
                "sent": "\(report.sent)", "retrying": "\(report.retrying)", "nextChannel": "\(report.nextChannel)",
                "undeliverable": "\(report.undeliverable)",
            ]
        }
    }

    /// The forwarding worker, every five seconds.
    public static func forwarding(
        _ pass: ForwardingPass, logger: Logger, interval: Duration = .seconds(5),
        onShutdown: @escaping @Sendable () async -> Void
    ) -> PeriodicPass {
        PeriodicPass(name: "forwarding", interval: interval, logger: logger, onShutdown: onShutdown) { now in
            let report = try await pass.run(now: now)
            count(
                "forwarding",
                [
                    ("forwarded", report.forwarded), ("retrying", report.retrying), ("dead_lettered", report.deadLettered),
                    ("erased", report.erased),
                ])
            guard report != ForwardingPass.Report() else { return nil }
            return [
                "forwarded": "\(report.forwarded)", "retrying": "\(report.retrying)", "deadLettered": "\(report.deadLettered)",
                "erased": "\(report.erased)", "cancelled": "\(report.cancelled)",
            ]
        }
    }
}
