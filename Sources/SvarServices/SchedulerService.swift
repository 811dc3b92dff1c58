import Foundation
import Logging
import ServiceLifecycle
import SvarStore

/// Runs the scheduler pass every minute inside `svar serve`, until graceful shutdown.
public struct SchedulerService: Service {
    let pass: SchedulerPass
    let interval: Duration
    let logger: Logger

    public init(pass: SchedulerPass, interval: Duration = .seconds(60), logger: Logger) {
        self.pass = pass
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let report = try await pass.run(now: Date())
                if report != TickReport() {
                    logger.info("scheduler pass", metadata: [
                        "invited": "\(report.invited)", "reminded": "\(report.reminded)", "expired": "\(report.expired)",
                        "nudges": "\(report.nudges)",
                    ])
                }
            } catch {
                logger.error("scheduler pass failed", metadata: ["error.type": "\(type(of: error))"])
            }
            // Wake at once on SIGTERM/SIGINT instead of finishing the minute.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
