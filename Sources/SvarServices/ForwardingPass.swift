import Foundation
import Logging
import SvarDomain
import SvarInstruments
import SvarRegistry
import SvarStore

/// How forwarding treats failures: up to twelve attempts, waiting 30 s, 1 min, 2 min … (at most 6 h) with
/// jitter; then the dead-letter list. Configurable for installations (and tests) that need other timings.
public struct ForwardingPolicy: Sendable, Equatable {
    public var attempts = 12
    public var backoff = Backoff(first: 30, longest: 6 * 3600)
    public var batchSize = 50
    public var lease: TimeInterval = 600
    /// The legal basis written with every disclosure.
    public var basis =
        "forskrift om medisinske kvalitetsregistre (FOR-2019-06-21-789) § 3-2: registration without consent, with the right to object"
    public init() {}
}

/// One pass of the forwarding worker: claims due forwards, builds each response's FHIR Bundle, submits it to
/// the registry target and records the outcome. Every success is written to the disclosure log in the same
/// transaction that marks it done; every failure waits for a retry or goes to the dead-letter list. Erasures
/// from deletion requests are carried out at the target through the same queue.
public struct ForwardingPass: Sendable {
    public struct Report: Sendable, Equatable {
        public var forwarded = 0
        public var retrying = 0
        public var deadLettered = 0
        public var erased = 0
        public var cancelled = 0
        public init() {}
    }

    let store: any Store
    let vault: IdentityVault
    let catalogue: InstrumentCatalogue
    let target: any RegistryTarget
    let policy: ForwardingPolicy
    let logger: Logger
    let random: @Sendable () -> Double

    public init(
        store: any Store, vault: IdentityVault, catalogue: InstrumentCatalogue, target: any RegistryTarget,
        policy: ForwardingPolicy = ForwardingPolicy(), logger: Logger,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }
    ) {
        self.store = store
        self.vault = vault
        self.catalogue = catalogue
        self.target = target
        self.policy = policy
        self.logger = logger
        self.random = random
    }

    public func run(now: Date) async throws -> Report {
        var report = Report()
        while true {
            let claimed = try await store.claimForwards(now: now, leaseUntil: now.addingTimeInterval(policy.lease), limit: policy.batchSize)
            // Only an empty claim ends the pass: a claim may settle rows (a reserved patient's) without returning them.
            if claimed.isEmpty { break }
            for item in claimed {
                switch item.kind {
                case .forward: try await forward(item, now: now, report: &report)
                case .erase: try await erase(item, now: now, report: &report)
                }
            }
        }
        return report
    }

    private func forward(_ item: ClaimedForward, now: Date, report: inout Report) async throws {
        guard let responseId = item.responseId, let response = try await store.forwardedResponse(responseId: responseId) else {
            try await store.deadLetter(forwardId: item.id, reason: "the response is no longer stored", at: now)
            report.deadLettered += 1
            return
        }
        let submission: RegistrySubmission
        do {
            submission = try prepare(response, now: now, identity: try await identity(of: response.patientId, now: now))
        } catch {
            try await store.deadLetter(forwardId: item.id, reason: "cannot build the Bundle: \(error)", at: now)
            report.deadLettered += 1
            logger.error("forward could not be built", metadata: ["outbox.id": "\(item.id)", "error.type": "\(type(of: error))"])
            return
        }
        switch await target.submit(submission) {
        case .accepted(let detail):
            let identifiedBy = submission.subject.isIdentityNumber ? "identity number" : "registry pseudonym"
            try await store.recordForwarded(
                forwardId: item.id,
                disclosure: Disclosure(
                    at: now, recipient: target.recipient, subject: response.patientId,
                    identifiedBy: identifiedBy
                        + (submission.identity != nil && !submission.subject.isIdentityNumber
                            ? " (number sealed in the registry's vault)" : ""),
                    dataSet:
                        "QuestionnaireResponse \(response.instrument) \(response.instrumentVersion) (\(response.milestone), unit "
                        + "\(response.unit)) with \(response.scores.count) score(s)",
                    responseId: response.responseId, basis: policy.basis, receipt: detail))
            report.forwarded += 1
        case .transient(let reason, let retryAfter):
            if item.attempts + 1 >= policy.attempts {
                try await store.deadLetter(
                    forwardId: item.id, reason: "gave up after \(item.attempts + 1) attempts; last: \(reason)", at: now)
                report.deadLettered += 1
                logger.warning("forward dead-lettered", metadata: ["outbox.id": "\(item.id)", "attempts": "\(item.attempts + 1)"])
            } else {
                let wait = policy.backoff.delay(afterAttempt: item.attempts + 1, retryAfter: retryAfter, random: random())
                try await store.scheduleForwardRetry(
                    forwardId: item.id, reason: reason, nextAttemptAt: now.addingTimeInterval(wait), at: now)
                report.retrying += 1
            }
        case .permanent(let reason):
            try await store.deadLetter(forwardId: item.id, reason: reason, at: now)
            report.deadLettered += 1
            logger.warning("forward refused by the registry", metadata: ["outbox.id": "\(item.id)"])
        }
    }

    /// The identity number with its OID system, read from the vault (and audited) only when the target gets it.
    private func identity(of patientId: String, now: Date) async throws -> RegistrySubject? {
        guard target.identityUse != .pseudonymOnly,
            let sealed = try await store.readIdentity(
                of: patientId, in: .everyUnit, actor: "forwarder", purpose: "forward to \(target.recipient)", at: now)
        else {
            return nil
        }
        let number = try vault.open(sealed, patientId: patientId).identityNumber
        let parsed = try IdentityNumber(number, allowSynthetic: true)
        return RegistrySubject(system: parsed.system, value: number, isIdentityNumber: true)
    }

    func prepare(_ response: ForwardedResponse, now: Date, identity: RegistrySubject?) throws -> RegistrySubmission {
        guard let instrument = catalogue.instrument(response.instrument) else {
            throw StoreError.notFound(what: "instrument", id: response.instrument)
        }
        let pseudonym = vault.registryPseudonym(patientId: response.patientId)
        let subject = target.identityUse == .patientIdentifier ? identity ?? .pseudonym(pseudonym) : .pseudonym(pseudonym)
        let bundle = try RegistryBundle.transaction(response, subject: subject, instrument: instrument)
        return RegistrySubmission(
            response: response, pseudonym: pseudonym, subject: subject,
            identity: target.identityUse == .separateVault ? identity : nil, bundle: bundle.serialized,
            idempotencyKey: "svar-forward-\(response.responseId)")
    }

    private func erase(_ item: ClaimedForward, now: Date, report: inout Report) async throws {
        do {
            let erasure = try await target.erase(pseudonym: vault.registryPseudonym(patientId: item.patientId), at: now)
            try await store.completeErasure(forwardId: item.id, patientId: item.patientId, report: erasure, at: now)
            report.erased += 1
        } catch {
            let wait = policy.backoff.delay(afterAttempt: item.attempts + 1, retryAfter: nil, random: random())
            try await store.scheduleForwardRetry(
                forwardId: item.id, reason: "erasure failed: \(type(of: error))",
                nextAttemptAt: now.addingTimeInterval(wait), at: now)
            report.retrying += 1
        }
    }
}
