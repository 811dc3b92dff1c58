import Foundation
import SvarDomain
import SvarRegistry

/// An outbox item the forwarding worker has claimed: a response to forward, or a registry erasure to carry out.
public struct ClaimedForward: Sendable, Equatable {
    public enum Kind: String, Sendable { case forward, erase }
    public var id: String
    public var kind: Kind
    public var patientId: String
    public var responseId: String?
    /// Attempts so far.
    public var attempts: Int
    public init(id: String, kind: Kind, patientId: String, responseId: String? = nil, attempts: Int) {
        self.id = id
        self.kind = kind
        self.patientId = patientId
        self.responseId = responseId
        self.attempts = attempts
    }
}

/// One entry of the disclosure log (§ 4-7): who received what about whom, on which basis, when.
public struct Disclosure: Sendable, Equatable {
    public var at: Date
    public var recipient: String
    /// Svar's pseudonym for the patient.
    public var subject: String
    /// `identity number` or `registry pseudonym`: how the patient was named to the recipient.
    public var identifiedBy: String
    public var dataSet: String
    public var responseId: String
    public var basis: String
    /// What the recipient answered (status, location): the receipt.
    public var receipt: String
    public init(
        at: Date, recipient: String, subject: String, identifiedBy: String, dataSet: String, responseId: String, basis: String,
        receipt: String
    ) {
        self.at = at
        self.recipient = recipient
        self.subject = subject
        self.identifiedBy = identifiedBy
        self.dataSet = dataSet
        self.responseId = responseId
        self.basis = basis
        self.receipt = receipt
    }
}

/// A forward that will not go by itself: refused by the registry or out of attempts. Registry staff read the
/// list and send an item again once the cause is fixed.
public struct FailedForward: Sendable, Equatable {
    public var id: String
    public var patientId: String
    public var responseId: String?
    public var attempts: Int
    public var reason: String
    public var failedAt: Date
    public init(id: String, patientId: String, responseId: String? = nil, attempts: Int, reason: String, failedAt: Date) {
        self.id = id
        self.patientId = patientId
        self.responseId = responseId
        self.attempts = attempts
        self.reason = reason
        self.failedAt = failedAt
    }
}

/// What a deletion request did: what was erased, what was kept and why (§ 3-3: data already disclosed or
/// used in analyses).
public struct DeletionReport: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable {
        case received
        case erasingAtRegistry = "erasing-at-registry"
        case done
    }
    public var patientId: String
    public var requestedAt: Date
    public var deadline: Date
    public var state: State
    public var completedAt: Date?
    public var erased: [String]
    public var kept: [String]
    public init(
        patientId: String, requestedAt: Date, deadline: Date, state: State, completedAt: Date? = nil, erased: [String], kept: [String]
    ) {
        self.patientId = patientId
        self.requestedAt = requestedAt
        self.deadline = deadline
        self.state = state
        self.completedAt = completedAt
        self.erased = erased
        self.kept = kept
    }
}

/// The outbox as the forwarding worker sees it, the disclosure log and deletion. Every method is one transaction.
public protocol ForwardingStore: Sendable {
    /// Claims due forward and erase items by leasing them until `leaseUntil`. Forwards of reserved patients
    /// are cancelled here instead of being returned: nothing is forwarded after a reservation.
    func claimForwards(now: Date, leaseUntil: Date, limit: Int) async throws -> [ClaimedForward]
    func forwardedResponse(responseId: String) async throws -> ForwardedResponse?
    /// Marks the forward done and writes the disclosure, together. A forward no longer queued (cancelled by a
    /// reservation while it was in flight) still gets its disclosure: it did happen.
    func recordForwarded(forwardId: String, disclosure: Disclosure) async throws
    func scheduleForwardRetry(forwardId: String, reason: String, nextAttemptAt: Date, at: Date) async throws
    /// Parks the item in the dead-letter list.
    func deadLetter(forwardId: String, reason: String, at: Date) async throws
    func failedForwards() async throws -> [FailedForward]
    /// Puts a dead-lettered forward back in the queue, due at once, with its attempts counted afresh.
    func retryForward(id: String, actor: String, at: Date) async throws
    func disclosures(subject: String?, limit: Int) async throws -> [Disclosure]
    /// Erases the patient's data from Svar (keeping the audit and disclosure logs, the reservation and a
    /// tombstone), reserves the patient, and queues the erasure at the registry.
    func deletePatientData(patientId: String, actor: String, at: Date) async throws -> DeletionReport
    /// Records the registry's part of a deletion and ends the request.
    func completeErasure(forwardId: String, patientId: String, report: ErasureReport, at: Date) async throws
    func deletionReport(patientId: String) async throws -> DeletionReport?
}
