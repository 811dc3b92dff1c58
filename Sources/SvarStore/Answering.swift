import Foundation
import SvarDomain

/// One instrument's checked answers and scores, ready to be stored with a submission.
public struct SubmittedResponse: Sendable {
    public var instrument: String
    public var instrumentVersion: String
    /// The answers as JSON (`{"linkId": code}`), exactly as checked.
    public var answersJSON: String
    public var scores: [StoredScore]
    public init(instrument: String, instrumentVersion: String, answersJSON: String, scores: [StoredScore]) {
        self.instrument = instrument
        self.instrumentVersion = instrumentVersion
        self.answersJSON = answersJSON
        self.scores = scores
    }
}

/// Where a link leads: the invitation, if the link is on record for it.
public struct LinkLookup: Sendable, Equatable {
    public var invitation: InvitationRecord
    public var language: String
}

/// The patient-facing part of the store: links, drafts, submission.
public protocol AnsweringStore: Sendable {
    /// The invitation behind a verified token, if this nonce was issued for it.
    func lookUpLink(invitationId: String, nonceHash: [UInt8]) async throws -> LinkLookup?
    /// First opening of a link: scheduled/invited/reminded/unreachable → opened (history row).
    func markOpened(invitationId: String, at: Date) async throws
    func saveDraft(invitationId: String, instrument: String, answersJSON: String, language: String, at: Date) async throws
    func drafts(invitationId: String) async throws -> [String: String]
    /// Stores every response and score, completes the invitation (cancelling its reminders and queued
    /// notifications) and queues the forward to the registry — in one transaction. A second submission of
    /// the same invitation throws `StoreError.conflict(field: "invitation", …)` and stores nothing.
    func submit(invitationId: String, responses: [SubmittedResponse], respondent: String, language: String, at: Date) async throws
    func responses(invitationId: String) async throws -> [(instrument: String, answersJSON: String, scores: [StoredScore])]

    // Second factor
    /// Until when the link is locked after repeated wrong answers (nil: not locked at `now`).
    func factorLockedUntil(invitationId: String, now: Date) async throws -> Date?
    /// Counts a wrong answer; the `maximum`-th locks the link for `lock` seconds. Returns the lock's end, if locked.
    func recordFactorFailure(invitationId: String, at: Date, maximum: Int, lock: TimeInterval) async throws -> Date?
    func clearFactorFailures(invitationId: String) async throws
    /// Keeps the hash of a new one-time code and queues its delivery (outbox kind `code`) in one transaction.
    func issueCode(invitationId: String, codeHash: [UInt8], expiresAt: Date, payload: String, at: Date) async throws
    func currentCode(invitationId: String, now: Date) async throws -> [UInt8]?
}
