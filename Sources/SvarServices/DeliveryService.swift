import Foundation
import Logging
import ServiceLifecycle

/// Runs the delivery pass every few seconds inside `svar serve`, until graceful shutdown.
public struct DeliveryService: Service {
    let pass: DeliveryPass
    let interval: Duration
    let logger: Logger
    let onShutdown: @Sendable () async -> Void

    public init(pass: DeliveryPass, interval: Duration = .seconds(10), logger: Logger, onShutdown: @escaping @Sendable () async -> Void = {}) {
        self.pass = pass
        self.interval = interval
        self.logger = logger
        self.onShutdown = onShutdown
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let report = try await pass.run(now: Date())
                if report != DeliveryPass.Report() {
                    logger.info("delivery pass", metadata: [
                        "sent": "\(report.sent)", "retrying": "\(report.retrying)", "nextChannel": "\(report.nextChannel)",
                        "undeliverable": "\(report.undeliverable)",
                    ])
                }
            } catch {
                logger.error("delivery pass failed", metadata: ["error.type": "\(type(of: error))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        await onShutdown()
    }
}
