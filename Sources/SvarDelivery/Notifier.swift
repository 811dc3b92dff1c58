import Foundation

/// A way to reach a patient. The outbox tries a patient's channels in order and moves to the next one only
/// when a channel fails permanently.
public enum Channel: String, Sendable, CaseIterable, Codable {
    case email, sms
}

/// One notification ready to go: already rendered, addressed, and with a Message-ID unique to this attempt,
/// so a retry is recognisable as a separate attempt and a receiver never sees two copies under one id.
public struct OutgoingMessage: Sendable, Equatable {
    public var channel: Channel
    /// An e-mail address or a mobile number; never logged.
    public var recipient: String
    public var subject: String
    public var text: String
    public var html: String?
    /// `<local@domain>`, unique per attempt.
    public var messageId: String
    /// The e-mail's sender name beside the address (`SVAR_SENDER_NAME`): neutral, as anyone may see it.
    public var senderName: String?

    public init(
        channel: Channel, recipient: String, subject: String, text: String, html: String? = nil, messageId: String,
        senderName: String? = nil
    ) {
        self.senderName = senderName
        self.channel = channel
        self.recipient = recipient
        self.subject = subject
        self.text = text
        self.html = html
        self.messageId = messageId
    }
}

/// What became of one message. The distinction drives the outbox: transient failures are retried on the
/// same channel with backoff, permanent ones move on to the patient's next channel.
public enum DeliveryOutcome: Sendable, Equatable {
    case sent
    /// Try again later on this channel (server down, 4xx, timeout, rate limit, a configuration fault the
    /// operator must fix). `retryAfter` is the peer's own wish, when it said one.
    case transient(reason: String, retryAfter: TimeInterval? = nil)
    /// This channel will not reach this recipient (mailbox refused, number rejected).
    case permanent(reason: String)

    public var reason: String? {
        switch self {
        case .sent: return nil
        case .transient(let reason, _), .permanent(let reason): return reason
        }
    }
}

/// Sends notifications on one channel. `deliver` takes a batch so an implementation can reuse one
/// connection for all of it; it returns one outcome per message, in order, and never throws: every failure
/// is an outcome with a reason.
public protocol Notifier: Sendable {
    var channel: Channel { get }
    func deliver(_ messages: [OutgoingMessage]) async -> [DeliveryOutcome]
    /// Sends the messages in order and hands each outcome (with its index) to `record`, awaiting it before the
    /// next message goes out: a process killed mid-batch then leaves at most one message sent and not recorded.
    /// An error from `record` stops the batch (the rest is not sent) and is rethrown.
    func deliver(_ messages: [OutgoingMessage], recordingEach record: (Int, DeliveryOutcome) async throws -> Void) async throws
}

extension Notifier {
    /// One message at a time through `deliver(_:)`; a notifier that can reuse a connection across messages
    /// (SMTP) does better.
    public func deliver(_ messages: [OutgoingMessage], recordingEach record: (Int, DeliveryOutcome) async throws -> Void) async throws {
        for (index, message) in messages.enumerated() {
            let outcome = await deliver([message]).first ?? .transient(reason: "the notifier gave no outcome")
            try await record(index, outcome)
        }
    }
}
