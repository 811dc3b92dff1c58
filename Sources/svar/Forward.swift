import ArgumentParser
import Foundation
import Logging
import SvarAssets
import SvarDomain
import SvarPostgres
import SvarSQLite
import SvarServices
import SvarStore

struct Forward: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one forwarding pass: send the due results to the registry, and print what happened.",
        discussion: """
            Uses the same target as svar serve: the FHIR server at SVAR_REGISTRY_URL, else the local registry store \
            (SVAR_REGISTRY_STORE). --now runs the pass as if it were that time (for retries that are not yet due).
            """
    )

    @Option(name: .long, help: "Run as if it were this time (ISO 8601; Oslo time without an offset).")
    var now: String?

    func run() async throws {
        let instant = try passTime(now)
        let runtime = try await Runtime.load()
        let forwarding = try await loadForwarding(runtime)
        var logger = Logger(label: "svar")
        logger.logLevel = Logger.Level(rawValue: runtime.configuration.logLevel) ?? .info
        let report: ForwardingPass.Report
        do {
            report = try await makeForwardingPass(runtime, forwarding, logger: logger).run(now: instant)
        } catch {
            await forwarding.shutdown()
            throw fail("forwarding pass failed: \(error)")
        }
        await forwarding.shutdown()
        print(
            "forward at \(OsloTime.iso8601(instant)): forwarded \(report.forwarded), retrying \(report.retrying), dead-lettered "
                + "\(report.deadLettered), erased \(report.erased)"
        )
    }
}

/// Registry staff's view of forwarding: the dead-letter list, sending an item again, the disclosure log.
struct Forwarding: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The forwarding dead-letter list and the disclosure log.",
        subcommands: [Failed.self, Retry.self, Disclosures.self]
    )

    struct Failed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List forwards that failed for good: id, patient pseudonym, response, attempts, time, reason (tab-separated).")

        func run() async throws {
            let runtime = try await Runtime.load(needsVault: false)
            let failed = try await runtime.store.failedForwards()
            for item in failed {
                print(
                    [item.id, item.patientId, item.responseId ?? "-", "\(item.attempts)", OsloTime.iso8601(item.failedAt), item.reason]
                        .joined(separator: "\t"))
            }
            printError("\(failed.count) failed forward(s)")
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue a failed forward again, due at once (the next forwarding pass sends it).")

        @Argument(help: "The forward's id, from svar forwarding failed.")
        var id: String

        func run() async throws {
            let runtime = try await Runtime.load(needsVault: false)
            do {
                try await runtime.store.retryForward(id: id, actor: commandLineActor(), at: Date())
            } catch let error as StoreError {
                throw fail("ID: \(error)")
            }
            print("forward \(id) queued again")
        }
    }

    struct Disclosures: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the disclosure log (§ 4-7) as NDJSON, newest first, or one patient's in order.")

        @Option(name: .long, help: "Only this patient (Svar's pseudonym).")
        var patient: String?

        @Option(name: .long, help: "At most this many entries.")
        var limit = 1000

        func run() async throws {
            guard limit > 0 else { throw fail("--limit: must be at least 1") }
            let runtime = try await Runtime.load(needsVault: false)
            for entry in try await runtime.store.disclosures(subject: patient, limit: limit) {
                print(try JSONText.string(entry.json))
            }
        }
    }
}

func loadForwarding(_ runtime: Runtime, environment: [String: String] = ProcessInfo.processInfo.environment) async throws
    -> ForwardingConfiguration
{
    do {
        return try await ForwardingConfiguration.fromEnvironment(
            environment, database: runtime.configuration.database, vault: runtime.vault
        ) { location, vault in
            try await openRegistryArchive(location, runtime: runtime, vault: vault)
        }
    } catch {
        throw fail("cannot start: \(error)")
    }
}

/// Opens the local registry store on its engine.
func openRegistryArchive(_ location: RegistryArchiveLocation, runtime: Runtime, vault: IdentityVault) async throws -> any RegistryArchive {
    switch location {
    case .sqlite(let path):
        return try LocalRegistryStore(path: path, sealingKey: vault.registryStoreKey)
    case .schemaBesideSvar(let schema):
        guard let postgres = runtime.postgres else { throw AssetError("a registry schema needs Svar's database on PostgreSQL") }
        return try await postgres.registryStore(schema: schema, sealingKey: vault.registryStoreKey)
    case .postgres(let endpoint, let schema):
        let logger = commandLogger(runtime.configuration)
        try await endpoint.waitUntilReachable(seconds: runtime.configuration.databaseConnectTimeout, logger: logger)
        return try await PostgresRegistryStore.connect(endpoint, schema: schema, sealingKey: vault.registryStoreKey, logger: logger)
    }
}

func makeForwardingPass(_ runtime: Runtime, _ forwarding: ForwardingConfiguration, logger: Logger) -> ForwardingPass {
    ForwardingPass(
        store: runtime.store, vault: runtime.vault, catalogue: runtime.catalogue, target: forwarding.target,
        policy: forwarding.policy, logger: logger)
}
