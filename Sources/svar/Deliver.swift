import ArgumentParser
import Foundation
import Logging
import SvarDelivery
import SvarDomain
import SvarServices

struct Deliver: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one delivery pass: send the due invitations, reminders and codes, and print what happened.",
        discussion: """
            Uses the same notifiers as svar serve: SMTP when SVAR_SMTP_URL is set (else the file mailbox in SVAR_MAILBOX_DIR), \
            and the SMS gateway when SVAR_SMS_URL is set.
            """
    )

    @Option(name: .long, help: "The time of the pass, ISO 8601 (as for svar tick). Default: now.")
    var now: String?

    func run() async throws {
        let instant = try passTime(now)
        let runtime = try await Runtime.load()
        let delivery = try loadDelivery(runtime)
        var logger = Logger(label: "svar")
        logger.logLevel = Logger.Level(rawValue: runtime.configuration.logLevel) ?? .info
        let pass = try await makeDeliveryPass(runtime, delivery: delivery, logger: logger, now: instant)
        let report: DeliveryPass.Report
        do {
            report = try await pass.run(now: instant)
        } catch {
            await delivery.shutdown()
            throw fail("delivery pass failed: \(error)")
        }
        await delivery.shutdown()
        print(
            "deliver at \(OsloTime.iso8601(instant)): sent \(report.sent), retrying \(report.retrying), next channel "
                + "\(report.nextChannel), undeliverable \(report.undeliverable), skipped \(report.skipped)"
        )
    }
}

func loadDelivery(_ runtime: Runtime, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> DeliveryConfiguration {
    do {
        return try DeliveryConfiguration.fromEnvironment(
            environment, workingDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
    } catch {
        throw fail("cannot start: \(error)")
    }
}

func makeDeliveryPass(_ runtime: Runtime, delivery: DeliveryConfiguration, links: LinkIssuer? = nil, logger: Logger, now: Date) async throws
    -> DeliveryPass
{
    do {
        let issuer: LinkIssuer
        if let links {
            issuer = links
        } else {
            issuer = try await LinkIssuer.load(
                store: runtime.store, vault: runtime.vault, publicURL: runtime.configuration.publicURL, now: now)
        }
        var composer = try MessageComposer.load(webDirectory: runtime.directories.web)
        composer.senderName = runtime.configuration.senderName
        composer.rightsURL = runtime.configuration.publicURL + "/rettigheter"
        return DeliveryPass(
            store: runtime.store, vault: runtime.vault, links: issuer, composer: composer, notifiers: delivery.notifiers,
            policy: delivery.policy, messageDomain: delivery.messageDomain, logger: logger, catalogue: runtime.catalogue)
    } catch {
        throw fail("cannot start: \(error)")
    }
}
