import Foundation
import SvarDomain

/// One instrument's checked answers and scores, ready to be stored with a submission.
public struct SubmittedResponse: Sendable {
    public var instrument: String
    public var instrumentVersion: String
    /// The answers as JSON (`{"linkId": code}`), exactly as checked.
    public var answersJSON: String
    public var scores: [StoredScore]
    /// The questions whose answers the instrument marks as safety-relevant (stored as a flag for clinicians).
    public var safetyItems: [String]
    public init(instrument: String, instrumentVersion: String, answersJSON: String, scores: [StoredScore], safetyItems: [String] = []) {
        self.instrument = instrument
        self.instrumentVersion = instrumentVersion
        self.answersJSON = answersJSON
        self.scores = scores
        self.safetyItems = safetyItems
    }
}

/// What a patient's page needs of the invitation behind its link, read on every page view: no history or
/// reminders, which only clinicians' pages show, so the look-up is one statement.
public struct LinkedInvitation: Sendable, Equatable {
    public var id: String
    public var patientId: String
    public var instruments: [String]
    public var state: InvitationState
    public var closesAt: Date
    public init(id: String, patientId: String, instruments: [String], state: InvitationState, closesAt: Date) {
        self.id = id
        self.patientId = patientId
        self.instruments = instruments
        self.state = state
        self.closesAt = closesAt
    }
}

/// Where a link leads: the invitation, if the link is on record for it.
public struct LinkLookup: Sendable, Equatable {
    public var invitation: LinkedInvitation
    public var language: String
    /// The draft answers per instrument (JSON objects), read with the link: one database round trip per page.
    public var drafts: [String: String]
    /// The steps already shown and already saved (paradata), so a page view writes only the first time.
    public var stepsShown: Set<Int>
    public var stepsSaved: Set<Int>
    public init(
        invitation: LinkedInvitation, language: String, drafts: [String: String] = [:], stepsShown: Set<Int> = [],
        stepsSaved: Set<Int> = []
    ) {
        self.invitation = invitation
        self.language = language
        self.drafts = drafts
        self.stepsShown = stepsShown
        self.stepsSaved = stepsSaved
    }
}

/// Paradata: when one step of one invitation was first shown and first saved — never what was answered — so a
/// registry can see where patients stop.
public struct StepView: Sendable, Equatable {
    public var invitationId: String
    public var unit: String
    public var milestone: String
    public var instruments: [String]
    public var state: String
    public var step: Int
    public var firstShown: Date
    public var firstSaved: Date?
    public init(
        invitationId: String, unit: String, milestone: String, instruments: [String], state: String, step: Int, firstShown: Date,
        firstSaved: Date?
    ) {
        self.invitationId = invitationId
        self.unit = unit
        self.milestone = milestone
        self.instruments = instruments
        self.state = state
        self.step = step
        self.firstShown = firstShown
        self.firstSaved = firstSaved
    }
}

/// Turns the comma-joined step numbers a link lookup reads into a set.
public func stepNumbers(_ text: String?) -> Set<Int> { Set((text ?? "").split(separator: ",").compactMap { Int($0) }) }

/// Where an invitation's second factor stands.
public enum FactorState: Sendable, Equatable {
    case open
    /// The answer just given was right (only from `attemptFactor`).
    case passed
    /// The answer just given was wrong (only from `attemptFactor`).
    case wrong
    case locked(until: Date)
    /// Locked too often: every link of the invitation is void until a clinician issues a new one.
    case voided
}

/// How many wrong answers lock a link, for how long, and how many locks void it.
public struct FactorPolicy: Sendable {
    public var maximumFailures = 5
    public var lock: TimeInterval = 15 * 60
    public var locksBeforeVoid = 3
    public init() {}
}

/// What a second-factor answer is compared with, read inside the attempt's transaction.
public struct FactorEvidence: Sendable {
    /// The hash of the current one-time code, if one is valid now.
    public var codeHash: [UInt8]?
    public var sealedIdentity: SealedIdentity?
    public init(codeHash: [UInt8]? = nil, sealedIdentity: SealedIdentity? = nil) {
        self.codeHash = codeHash
        self.sealedIdentity = sealedIdentity
    }
}

/// The patient-facing part of the store: links, drafts, submission.
public protocol AnsweringStore: Sendable {
    /// The invitation behind a verified token, if this nonce was issued for it.
    func lookUpLink(invitationId: String, nonceHash: [UInt8]) async throws -> LinkLookup?
    /// First opening of a link: scheduled/invited/reminded/unreachable → opened (history row).
    func markOpened(invitationId: String, at: Date) async throws
    func saveDraft(invitationId: String, instrument: String, answersJSON: String, language: String, at: Date) async throws
    /// Records that a step was shown (and, with `saved`, saved) for the first time; later calls keep the first times.
    func recordStepView(invitationId: String, step: Int, saved: Bool, at: Date) async throws
    /// Every step view, for the paradata export: patients who reserved themselves or asked for deletion are left out.
    func stepViews() async throws -> [StepView]
    /// Stores every response and score, completes the invitation (cancelling its reminders and queued
    /// notifications) and queues the forward to the registry — in one transaction. A second submission of
    /// the same invitation throws `StoreError.conflict(field: "invitation", …)` and stores nothing.
    func submit(invitationId: String, responses: [SubmittedResponse], respondent: String, language: String, at: Date) async throws
    func responses(invitationId: String) async throws -> [(instrument: String, answersJSON: String, scores: [StoredScore])]
    /// The patient declines this one questionnaire (from its landing page): the invitation becomes `declined`,
    /// which cancels its pending reminders and queued messages, and the decline is audited — in one transaction.
    /// The patient's other invitations are untouched (that is what a reservation is for). An invitation that can
    /// no longer be declined (answered, expired, cancelled, declined) throws `StoreError.conflict` and changes nothing.
    func decline(invitationId: String, actor: String, at: Date) async throws

    // Second factor
    func factorState(invitationId: String, now: Date) async throws -> FactorState
    /// One answer to the second factor, in one write transaction: the lock is checked, `check` compares the
    /// answer with the evidence (the current code's hash; the sealed identity when `readsIdentity`, audited),
    /// and the outcome is counted. A passed code is used up; the `maximumFailures`-th wrong answer locks the
    /// link, and the `locksBeforeVoid`-th lock voids the invitation's links until a clinician issues a new one.
    func attemptFactor(
        invitationId: String, at: Date, policy: FactorPolicy, readsIdentity: Bool,
        check: @Sendable (FactorEvidence) -> Bool
    ) async throws -> FactorState
    /// A clinician issues a new link after the links were voided: the count starts again.
    func restoreFactor(invitationId: String, actor: String, at: Date) async throws
    /// Keeps the hash of a new one-time code and queues its delivery (outbox kind `code`) in one transaction.
    func issueCode(invitationId: String, codeHash: [UInt8], expiresAt: Date, payload: OutboxPayload, at: Date) async throws
    func currentCode(invitationId: String, now: Date) async throws -> [UInt8]?
}
