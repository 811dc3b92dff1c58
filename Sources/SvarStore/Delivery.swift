import Foundation
import SvarDomain

/// What an outbox item carries for its notifier: the invitation (and reminder number), the registry response, or a
/// one-time code. Absent members are left out, so an item with nothing to carry is `{}`.
public struct OutboxPayload: Codable, Sendable, Equatable {
    public var invitation: String?
    public var reminder: Int?
    public var response: String?
    public var code: String?

    public init(invitation: String? = nil, reminder: Int? = nil, response: String? = nil, code: String? = nil) {
        self.invitation = invitation
        self.reminder = reminder
        self.response = response
        self.code = code
    }

    /// The text stored in the outbox row.
    public func json() throws -> String { try JSONText.string(self) }

    public init(json: String) throws { self = try JSONDecoder().decode(Self.self, from: Data(json.utf8)) }
}

/// An outbox item the delivery worker has claimed: everything it needs to compose and send one message.
public struct ClaimedDelivery: Sendable, Equatable {
    public var id: String
    public var kind: OutboxKind
    public var patientId: String
    public var invitationId: String?
    public var payload: String
    /// Attempts on the current channel.
    public var attempts: Int
    /// Position in the patient's channel order.
    public var channelIndex: Int
    /// Why earlier channels failed, one line each.
    public var failures: [String]
    public var language: String
    public var closesAt: Date?
    /// The unit of the invitation's course: its contact details for the patient are the ones used.
    public var unit: String?
    public init(
        id: String, kind: OutboxKind, patientId: String, invitationId: String? = nil, payload: String, attempts: Int, channelIndex: Int,
        failures: [String], language: String, closesAt: Date? = nil, unit: String? = nil
    ) {
        self.id = id
        self.kind = kind
        self.patientId = patientId
        self.invitationId = invitationId
        self.payload = payload
        self.attempts = attempts
        self.channelIndex = channelIndex
        self.failures = failures
        self.language = language
        self.closesAt = closesAt
        self.unit = unit
    }
}

/// An invitation no channel could deliver, for the clinicians' follow-up list.
public struct UnreachableInvitation: Sendable, Equatable {
    public var invitationId: String
    public var courseId: String
    public var patientId: String
    public var unit: String
    public var milestone: String
    public var since: Date
    public var reasons: [String]
    public init(invitationId: String, courseId: String, patientId: String, unit: String, milestone: String, since: Date, reasons: [String])
    {
        self.invitationId = invitationId
        self.courseId = courseId
        self.patientId = patientId
        self.unit = unit
        self.milestone = milestone
        self.since = since
        self.reasons = reasons
    }
}

/// The outbox as the delivery worker sees it. Every method is one transaction.
public protocol DeliveryStore: Sendable {
    /// Claims up to `limit` due items of the given kinds by moving their next attempt to `leaseUntil` (so a
    /// crashed worker's items come back by themselves). Items of reserved patients and of ended invitations
    /// are cancelled here instead of being returned.
    func claimDeliveries(kinds: [OutboxKind], now: Date, leaseUntil: Date, limit: Int) async throws -> [ClaimedDelivery]
    /// Marks the items that may still go out (not cancelled meanwhile by a submission or a reservation) as
    /// being sent, in one transaction, and returns them. The decision to send and a submission's cancelling
    /// serialise on the row: whichever commits first wins, so a message is either sent and recorded as sent,
    /// or cancelled and not sent. A row whose sender died stays `sending` until its lease passes, then is
    /// claimed again.
    func beginSending(deliveryIds: [String], at: Date) async throws -> Set<String>
    func markSent(deliveryId: String, channel: String, messageId: String, at: Date) async throws
    func scheduleRetry(deliveryId: String, reason: String, nextAttemptAt: Date, at: Date) async throws
    /// A permanent failure on the current channel: move to the next one, due at once.
    func moveToNextChannel(deliveryId: String, reason: String, at: Date) async throws
    /// No channel left: the item fails with every reason, and its invitation becomes `unreachable`.
    func markUndeliverable(deliveryId: String, reasons: [String], at: Date) async throws
    func unreachableInvitations(in scope: Scope) async throws -> [UnreachableInvitation]
    func outboxItem(_ id: String) async throws -> OutboxItem?
}

/// The start of the reason a claim gives when it cancels a message whose sending was interrupted (a sender that
/// died between `beginSending` and recording the outcome): the message may have gone out, so the record says so
/// rather than claiming it was never sent.
public func interruptedSend(_ state: String?) -> String {
    state == "sending" ? "sending was interrupted (the message may have gone out); not sent again: " : ""
}
