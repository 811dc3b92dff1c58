import Foundation
import Logging
import SvarDelivery
import SvarDomain
import SvarInstruments
import SvarStore

/// How the outbox treats failures. Defaults: SMS first, then e-mail; eight tries per channel, waiting
/// 1, 2, 4 … minutes (at most 6 hours) with jitter so a recovering server is not hit by every retry at once.
public struct DeliveryPolicy: Sendable, Equatable {
    public var channelOrder: [Channel] = [.sms, .email]
    public var attemptsPerChannel = 8
    public var firstDelay: TimeInterval = 60
    public var longestDelay: TimeInterval = 6 * 3600
    public var batchSize = 100
    /// How long a claimed item stays invisible to other passes (a crashed worker's items come back after it).
    public var lease: TimeInterval = 600
    public init() {}

    /// Exponential backoff with "equal jitter": half the delay fixed, half random; never sooner than the
    /// peer's own `Retry-After`.
    public func delay(afterAttempt attempt: Int, retryAfter: TimeInterval?, random: Double) -> TimeInterval {
        Backoff(first: firstDelay, longest: longestDelay).delay(afterAttempt: attempt, retryAfter: retryAfter, random: random)
    }
}

/// Exponential backoff with "equal jitter", shared by the delivery and forwarding workers.
public struct Backoff: Sendable, Equatable {
    public var first: TimeInterval
    public var longest: TimeInterval
    public init(first: TimeInterval, longest: TimeInterval) {
        self.first = first
        self.longest = longest
    }

    /// Half the delay fixed, half random (`random` in 0…1); never sooner than the peer's `Retry-After`.
    public func delay(afterAttempt attempt: Int, retryAfter: TimeInterval?, random: Double) -> TimeInterval {
        let exponential = min(longest, first * pow(2, Double(max(0, attempt - 1))))
        let jittered = exponential / 2 + exponential / 2 * min(max(random, 0), 1)
        return max(jittered, retryAfter ?? 0)
    }
}

/// One pass of the delivery worker: claims due invitation, reminder and code items, reads each patient's
/// contact details from the vault (audited), composes the neutral message with a fresh link, sends them in
/// batches per channel, and records every outcome. Nothing is lost: an item is `sent`, waits for a retry,
/// moves to the next channel, or fails with its reasons and makes the invitation `unreachable`.
public struct DeliveryPass: Sendable {
    public struct Report: Sendable, Equatable {
        public var sent = 0
        public var retrying = 0
        public var nextChannel = 0
        public var undeliverable = 0
        public var skipped = 0
        public init() {}
    }

    let store: any Store
    let vault: IdentityVault
    let links: LinkIssuer
    let composer: MessageComposer
    let notifiers: [Channel: any Notifier]
    let policy: DeliveryPolicy
    let messageDomain: String
    let logger: Logger
    let random: @Sendable () -> Double
    /// The instruments, to tell the time an invitation takes (`TimeEstimate`); without them the texts give none.
    let catalogue: InstrumentCatalogue?

    public init(
        store: any Store, vault: IdentityVault, links: LinkIssuer, composer: MessageComposer, notifiers: [any Notifier],
        policy: DeliveryPolicy = DeliveryPolicy(), messageDomain: String, logger: Logger,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }, catalogue: InstrumentCatalogue? = nil
    ) {
        self.catalogue = catalogue
        self.store = store
        self.vault = vault
        self.links = links
        self.composer = composer
        self.notifiers = Dictionary(notifiers.map { ($0.channel, $0) }, uniquingKeysWith: { first, _ in first })
        self.policy = policy
        self.messageDomain = messageDomain
        self.logger = logger
        self.random = random
    }

    /// Runs until nothing more is due at `now` (bounded batches).
    public func run(now: Date) async throws -> Report {
        var report = Report()
        while true {
            let claimed = try await store.claimDeliveries(
                kinds: [.invitation, .reminder, .code], now: now,
                leaseUntil: now.addingTimeInterval(policy.lease), limit: policy.batchSize)
            // A short batch does not mean nothing is left: the claim also cancels rows that are no longer wanted
            // without returning them. Only an empty claim does.
            if claimed.isEmpty { break }
            try await deliver(claimed, now: now, report: &report)
        }
        return report
    }

    private struct Prepared {
        var item: ClaimedDelivery
        var channel: Channel
        var message: OutgoingMessage
        var hasNextChannel: Bool
        /// Channels of the patient's order that cannot be used (no address, not configured).
        var unusable: [String]
    }

    private func deliver(_ claimed: [ClaimedDelivery], now: Date, report: inout Report) async throws {
        var prepared: [Prepared] = []
        for item in claimed {
            let preparation: Preparation
            do {
                preparation = try await prepare(item, now: now)
            } catch {
                // One item that cannot be prepared (its window closed a moment ago, a vault read failed) must
                // not hold up the rest of the batch: it waits for a retry, or for the scheduler to end it.
                let wait = policy.delay(afterAttempt: item.attempts + 1, retryAfter: nil, random: random())
                try await store.scheduleRetry(
                    deliveryId: item.id, reason: "not prepared: \(type(of: error))",
                    nextAttemptAt: now.addingTimeInterval(wait), at: now)
                report.retrying += 1
                logger.warning("delivery could not be prepared", metadata: ["outbox.id": "\(item.id)", "error.type": "\(type(of: error))"])
                continue
            }
            switch preparation {
            case .ready(let ready): prepared.append(ready)
            case .noChannelLeft(let reasons):
                try await store.markUndeliverable(deliveryId: item.id, reasons: reasons, at: now)
                report.undeliverable += 1
                logger.warning("delivery failed on every channel", metadata: ["outbox.id": "\(item.id)", "kind": "\(item.kind)"])
            }
        }
        for channel in Channel.allCases {
            let batch = prepared.filter { $0.channel == channel }
            guard !batch.isEmpty, let notifier = notifiers[channel] else { continue }
            // A submission or reservation may have cancelled an item since it was claimed; from here on it cannot.
            let queued = try await store.beginSending(deliveryIds: batch.map(\.item.id), at: now)
            let live = batch.filter { queued.contains($0.item.id) }
            report.skipped += batch.count - live.count
            // Each outcome is recorded before the next message goes out (a crash leaves one in doubt, not a batch).
            try await notifier.deliver(live.map(\.message)) { index, outcome in
                try await record(outcome, for: live[index], now: now, report: &report)
            }
        }
    }

    private enum Preparation {
        case ready(Prepared)
        case noChannelLeft([String])
    }

    private func prepare(_ item: ClaimedDelivery, now: Date) async throws -> Preparation {
        // The contact details the invitation's unit registered (the vault's own for messages of no unit).
        let scope: Scope = item.unit.map { .only([$0]) } ?? .everyUnit
        guard
            let sealed = try await store.readIdentity(of: item.patientId, in: scope, actor: "outbox", purpose: "send \(item.kind)", at: now)
        else {
            return .noChannelLeft(item.failures + ["no contact details on record"])
        }
        let identity = try vault.open(sealed, patientId: item.patientId)
        var routes: [(Channel, String)] = []
        var unusable: [String] = []
        let order = identity.channels?.compactMap(Channel.init(rawValue:)) ?? policy.channelOrder
        for channel in order {
            let address = channel == .email ? identity.email : identity.mobile
            if address == nil {
                unusable.append("\(channel.rawValue): no \(channel == .email ? "e-mail address" : "mobile number") on record")
            } else if notifiers[channel] == nil {
                unusable.append("\(channel.rawValue): not configured in this installation")
            } else if let address {
                routes.append((channel, address))
            }
        }
        guard item.channelIndex < routes.count else {
            return .noChannelLeft(item.failures + unusable)
        }
        let (channel, address) = routes[item.channelIndex]
        guard let kind = MessageComposer.Kind(rawValue: item.kind.rawValue) else {
            return .noChannelLeft(item.failures + ["unknown message kind '\(item.kind)'"])
        }
        var content = MessageComposer.Content(closesAt: item.closesAt)
        if kind == .code {
            guard let code = (try? OutboxPayload(json: item.payload))?.code else {
                return .noChannelLeft(item.failures + ["the code is no longer on record"])
            }
            content.code = code
        } else if let invitationId = item.invitationId {
            content.link = try await links.issue(invitationId: invitationId, actor: "outbox", now: now).url
            if kind == .invitation, let catalogue, let invitation = try await store.invitation(invitationId) {
                let items = invitation.instruments.compactMap(catalogue.instrument).reduce(0) { $0 + $1.questionnaire.questions.count }
                content.questionnaireMinutes = items > 0 ? TimeEstimate.minutes(items: items) : nil
            }
        }
        let messageId = "<\(item.id).\(item.channelIndex).\(item.attempts + 1)@\(messageDomain)>"
        let message = composer.compose(
            kind, language: item.language, channel: channel, content: content, recipient: address, messageId: messageId)
        return .ready(
            Prepared(
                item: item, channel: channel, message: message, hasNextChannel: item.channelIndex + 1 < routes.count,
                unusable: unusable))
    }

    private func record(_ outcome: DeliveryOutcome, for entry: Prepared, now: Date, report: inout Report) async throws {
        let item = entry.item
        let metadata: Logger.Metadata = ["outbox.id": "\(item.id)", "kind": "\(item.kind)", "channel": "\(entry.channel.rawValue)"]
        var permanentReason: String?
        switch outcome {
        case .sent:
            try await store.markSent(deliveryId: item.id, channel: entry.channel.rawValue, messageId: entry.message.messageId, at: now)
            report.sent += 1
            logger.info("delivered", metadata: metadata)
            return
        case .transient(let reason, let retryAfter):
            let attempt = item.attempts + 1
            if attempt < policy.attemptsPerChannel {
                let wait = policy.delay(afterAttempt: attempt, retryAfter: retryAfter, random: random())
                try await store.scheduleRetry(
                    deliveryId: item.id, reason: "\(entry.channel.rawValue): \(reason)",
                    nextAttemptAt: now.addingTimeInterval(wait), at: now)
                report.retrying += 1
                logger.notice(
                    "delivery will be retried", metadata: metadata.merging(["attempt": "\(attempt)", "reason": "\(reason)"]) { $1 })
                return
            }
            permanentReason = "\(entry.channel.rawValue): gave up after \(attempt) attempts (\(reason))"
        case .permanent(let reason):
            permanentReason = "\(entry.channel.rawValue): \(reason)"
        }
        let reason = permanentReason ?? "\(entry.channel.rawValue): failed"
        logger.warning("delivery failed on this channel", metadata: metadata.merging(["reason": "\(reason)"]) { $1 })
        if entry.hasNextChannel {
            try await store.moveToNextChannel(deliveryId: item.id, reason: reason, at: now)
            report.nextChannel += 1
        } else {
            try await store.markUndeliverable(deliveryId: item.id, reasons: item.failures + [reason] + entry.unusable, at: now)
            report.undeliverable += 1
        }
    }
}
