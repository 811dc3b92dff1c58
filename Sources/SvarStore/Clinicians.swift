import Foundation
import SvarDomain

/// A local account (the embedded default; production can use OIDC tokens instead).
public struct UserRecord: Sendable, Equatable {
    public var username: String
    /// bcrypt.
    public var passwordHash: String
    public var role: Role
    /// The units as assigned (not expanded).
    public var units: [String]
    /// The TOTP secret, sealed by the vault; nil when the account has no second factor.
    public var totpSecret: SealedIdentity?
    public var disabledAt: Date?
    public var lockedUntil: Date?
    /// The language the user chose for the clinician pages (`nb`, `nn` or `en`); nil until they choose.
    public var language: String?

    public init(
        username: String, passwordHash: String, role: Role, units: [String], totpSecret: SealedIdentity?, disabledAt: Date?,
        lockedUntil: Date?, language: String? = nil
    ) {
        self.username = username
        self.passwordHash = passwordHash
        self.role = role
        self.units = units
        self.totpSecret = totpSecret
        self.disabledAt = disabledAt
        self.lockedUntil = lockedUntil
        self.language = language
    }
}

/// Whether a login attempt may go on to the password check.
public enum LoginAdmission: Sendable, Equatable {
    case locked
    case admitted
    /// Admitted, and the name is now locked unless this attempt succeeds.
    case lastBeforeLock
}

/// A course as the clinician's start page lists it.
public struct CourseSummary: Sendable, Equatable {
    public var courseId: String
    public var patientId: String
    public var unit: String
    public var type: String
    public var status: String
    /// When the course was registered in Svar (which may be long after the treatment started).
    public var registeredAt: Date
    /// The date of the course's `start` event: when the treatment started (nil until it is recorded).
    public var startedOn: LocalDate?
    /// The next open or scheduled questionnaire, if any.
    public var nextMilestone: String?
    public var nextOpensAt: Date?
    public var nextState: String?
    public init(
        courseId: String, patientId: String, unit: String, type: String, status: String, registeredAt: Date,
        startedOn: LocalDate? = nil, nextMilestone: String? = nil, nextOpensAt: Date? = nil, nextState: String? = nil
    ) {
        self.courseId = courseId
        self.patientId = patientId
        self.unit = unit
        self.type = type
        self.status = status
        self.registeredAt = registeredAt
        self.startedOn = startedOn
        self.nextMilestone = nextMilestone
        self.nextOpensAt = nextOpensAt
        self.nextState = nextState
    }
}

/// One invitation in the tracking list and the follow-up worklist.
public struct InvitationSummary: Sendable, Equatable {
    public var invitationId: String
    public var courseId: String
    public var patientId: String
    public var unit: String
    public var milestone: String
    public var state: String
    public var opensAt: Date
    public var closesAt: Date
    public var remindersSent: Int
    /// Why delivery failed, newest attempt first (empty when it did not).
    public var deliveryProblems: [String]
    public var contactedAt: Date?
    public var contactedBy: String?
    /// What the clinician wrote about the contact, and the day it took place (it may be before the mark).
    public var contactNote: String
    public var contactedOn: LocalDate?
    /// When the link was voided after repeated wrong second-factor answers (the clinic issues a new one).
    public var linkVoidedAt: Date?
    public init(
        invitationId: String, courseId: String, patientId: String, unit: String, milestone: String, state: String, opensAt: Date,
        closesAt: Date, remindersSent: Int, deliveryProblems: [String], contactedAt: Date? = nil, contactedBy: String? = nil,
        linkVoidedAt: Date? = nil, contactNote: String = "", contactedOn: LocalDate? = nil
    ) {
        self.invitationId = invitationId
        self.courseId = courseId
        self.patientId = patientId
        self.unit = unit
        self.milestone = milestone
        self.state = state
        self.opensAt = opensAt
        self.closesAt = closesAt
        self.remindersSent = remindersSent
        self.deliveryProblems = deliveryProblems
        self.contactedAt = contactedAt
        self.contactedBy = contactedBy
        self.linkVoidedAt = linkVoidedAt
        self.contactNote = contactNote
        self.contactedOn = contactedOn
    }
}

/// One answered questionnaire, for the patient's results page.
public struct ResultRecord: Sendable, Equatable {
    public var invitationId: String
    public var courseId: String
    public var milestone: String
    public var unit: String
    public var instrument: String
    public var submittedAt: Date
    public var answersJSON: String
    public var scores: [StoredScore]
    public init(
        invitationId: String, courseId: String, milestone: String, unit: String, instrument: String, submittedAt: Date, answersJSON: String,
        scores: [StoredScore]
    ) {
        self.invitationId = invitationId
        self.courseId = courseId
        self.milestone = milestone
        self.unit = unit
        self.instrument = instrument
        self.submittedAt = submittedAt
        self.answersJSON = answersJSON
        self.scores = scores
    }
}

/// Accounts, sessions and what the clinician pages read. Every method is one transaction.
public protocol ClinicianStore: Sendable {
    func addUser(username: String, passwordHash: String, role: Role, units: [String], totpSecret: SealedIdentity?, actor: String, at: Date)
        async throws
    func disableUser(username: String, actor: String, at: Date) async throws
    func user(_ username: String) async throws -> UserRecord?
    /// Checks the submitted name's lock and counts this attempt as a failure, in one transaction, before any
    /// password is hashed (so parallel guesses cannot pass the lock). The `maximum`-th attempt in a row locks
    /// the name for `lock` seconds. `nameKey` is a keyed hash: names that are no account are counted alike and
    /// never stored in clear.
    func admitLogin(nameKey: [UInt8], username: String, at: Date, maximum: Int, lock: TimeInterval) async throws -> LoginAdmission
    /// Clears the name's count and records the login; with TOTP, also uses up the code's time step. False (and
    /// nothing written) when that step was already used: a replayed code.
    func recordLoginSuccess(username: String, nameKey: [UInt8], totpStep: Int64?, at: Date) async throws -> Bool
    /// A new TOTP secret for the account (the last used step is forgotten with the old one).
    func setTOTP(username: String, secret: SealedIdentity, actor: String, at: Date) async throws
    /// The assigned units and, for roles that include them, every unit below them.
    func unitsInScope(of user: UserRecord) async throws -> Set<String>
    /// Remembers the language the user chose for the clinician pages (`nb`, `nn` or `en`; nil forgets the choice,
    /// so the pages are in bokmål again). Stored in `users.language`; read back as `UserRecord.language`. Throws
    /// `StoreError.notFound` for an unknown user; audited as `user.language`.
    func setLanguage(username: String, language: String?, at: Date) async throws

    func createSession(tokenHash: [UInt8], username: String, csrf: String, at: Date) async throws
    /// The session's user and CSRF token if it is still alive (idle and absolute limits), touching it; a dead one is removed.
    func liveSession(tokenHash: [UInt8], now: Date, idle: TimeInterval, absolute: TimeInterval) async throws -> (
        username: String, csrf: String
    )?
    func endSession(tokenHash: [UInt8]) async throws

    func courseSummaries(in scope: Scope) async throws -> [CourseSummary]
    /// Invitations in `scope`, optionally only those in `states` — or (`orVoidedLinks`) whose links were voided.
    /// Only the invitation `invitationId` when given (one row for a page about one item).
    func invitationSummaries(in scope: Scope, states: [String]?, orVoidedLinks: Bool, invitationId: String?) async throws
        -> [InvitationSummary]
    /// Records that the patient was reached another way (`on` that day, with a note), audited; marking again
    /// replaces the earlier mark.
    func markContacted(invitationId: String, by: String, on day: LocalDate, note: String, at: Date) async throws
    /// The patient's answered questionnaires from courses in `scope` only.
    func results(patientId: String, in scope: Scope) async throws -> [ResultRecord]
    /// The units of the patient's courses (for scope checks).
    func patientUnits(_ patientId: String) async throws -> Set<String>
    func courses(patientId: String, in scope: Scope) async throws -> [CourseRecord]
    /// Invited and answered per unit and milestone, and the numeric scores (`svar report`).
    func statisticsInput() async throws -> StatisticsInput
    /// Every invitation of a course in `scope` whose answering window had opened by `now`, grouped by the facts the
    /// response overview (`/oversikt`) counts by. Patients who asked for deletion are left out: their data are
    /// being erased. Cancelled invitations are included with their reason; the overview decides what counts.
    func responseFacts(in scope: Scope, now: Date) async throws -> [ResponseFacts]
    /// The patient with this identity number's lookup hash, only when they have a course in `scope` (any patient
    /// for every unit): a unit registering a number must learn nothing of patients outside its units.
    func knownPatient(lookupHash: [UInt8], in scope: Scope) async throws -> String?
}

extension ClinicianStore {
    /// Every invitation in `scope` (in `states`, or with a voided link): the lists' read.
    public func invitationSummaries(in scope: Scope, states: [String]?, orVoidedLinks: Bool) async throws -> [InvitationSummary] {
        try await invitationSummaries(in: scope, states: states, orVoidedLinks: orVoidedLinks, invitationId: nil)
    }
}
