import Foundation
import SvarDomain

/// The only way the rest of Svar reaches the database. Every method is one transaction: it either happens
/// whole, with its audit entries, history rows and outbox items, or not at all.
///
/// The contract test suite (Tests/SvarStoreTests/StoreContract) runs against every implementation.
public protocol Store: AnsweringStore, DeliveryStore, ForwardingStore, ClinicianStore, SafetyFlagStore {
    // Units
    func createUnit(_ unit: Unit, actor: String, at: Date) async throws
    func units() async throws -> [Unit]

    // Patients and the identity vault
    func enrolPatient(_ enrolment: PatientEnrolment, actor: String, at: Date) async throws -> EnrolmentResult
    func patient(_ id: String) async throws -> PatientRecord?
    /// Reads the sealed identity and writes the audit entry for that read, in one transaction; nil when the
    /// patient has no course in `scope`.
    ///
    /// A unit-scoped read returns the identity as one of the scope's units registered it (the most recently
    /// changed), and the vault's own record only when none of them did (a patient registered through the
    /// installation's token).
    func readIdentity(of patientId: String, in scope: Scope, actor: String, purpose: String, at: Date) async throws -> SealedIdentity?
    /// Keeps, for each of `units`, the identity as that unit registered it: `merge` gets the unit's current
    /// record (nil if it has none) and returns the new one, inside the transaction; audited.
    func recordUnitIdentity(
        patientId: String, units: Set<String>, actor: String, at: Date,
        merge: @Sendable (SealedIdentity?) throws -> SealedIdentity) async throws
    func isTombstoned(lookupHash: [UInt8]) async throws -> Bool

    // Courses and events
    func createCourse(_ course: NewCourse, actor: String, at: Date) async throws
    func course(_ id: String) async throws -> CourseRecord?
    /// Records `event`; `decide` sees the course and patient as they are inside the transaction, checks the
    /// event and returns the invitations to create (none for a reserved patient). The nudge counts of the
    /// milestones in `restartingNudges` start again from the event's date, and their open nudges are resolved.
    func recordEvent(
        courseId: String, event: PathwayEvent, restartingNudges: [String], at: Date,
        decide: @Sendable (CourseRecord, PatientRecord) throws -> [ScheduleProtocol.Plan]
    ) async throws -> CourseRecord

    // Reservation and deletion
    /// Marks the patient reserved, cancels every pending invitation, reminder and queued notification,
    /// and keeps a tombstone of the lookup hash. Returns the number of invitations cancelled in `scope` (the
    /// reservation itself applies everywhere: it is the patient's).
    func reserve(patientId: String, countingIn scope: Scope, actor: String, at: Date) async throws -> Int

    // Scheduler passes: each handles at most `limit` rows in one transaction and returns how many it did.
    func expireDue(now: Date, limit: Int) async throws -> Int
    func openDue(now: Date, limit: Int) async throws -> (invited: Int, staleRemindersCancelled: Int)
    func remindDue(now: Date, limit: Int) async throws -> Int
    /// Makes the nudge counts of `milestone` agree with the events that restart them: when the rule is new or
    /// its events changed, the counts of active courses are rebuilt from their history. Returns the courses
    /// counted anew (0 when the rule is unchanged).
    func prepareNudges(milestone: String, countsFrom: [PathwayEventType]) async throws -> Int
    /// Raises a nudge for every active course whose count for `milestone` became `afterDays` old since the last
    /// pass (a reserved patient's course gets none), in one transaction, and returns how many were raised. The
    /// store keeps how far it has looked (a watermark per milestone), so a pass reads only the counts newly due.
    func raiseNudges(milestone: String, afterDays: Int, today: LocalDate, at: Date) async throws -> Int

    // Links
    func signingKeys() async throws -> [StoredSigningKey]
    func addSigningKey(_ key: StoredSigningKey) async throws
    /// Marks a key retired (audited); links signed with it stop opening.
    func retireSigningKey(id: UInt32, actor: String, at: Date) async throws
    func invitation(_ id: String) async throws -> InvitationRecord?
    func addLink(invitationId: String, nonceHash: [UInt8], expiresAt: Date, actor: String, at: Date) async throws

    // Reading what was written
    func auditEntries(subject: String) async throws -> [AuditEntry]
    func outbox(patientId: String) async throws -> [OutboxItem]
    /// Open nudges of courses in `scope`.
    func nudges(in scope: Scope) async throws -> [ClinicianNudge]
}

extension Store {
    public func nudges() async throws -> [ClinicianNudge] { try await nudges(in: .everyUnit) }
    public func reserve(patientId: String, actor: String, at: Date) async throws -> Int {
        try await reserve(patientId: patientId, countingIn: .everyUnit, actor: actor, at: at)
    }
}

/// Errors a store reports in the domain's words.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(what: String, id: String)
    case conflict(field: String, reason: String)
    case illegalTransition(String)
    /// A stored value outside what the code knows (a state, kind or date): an error, never a silent default.
    case corruptValue(table: String, column: String, value: String)

    public var description: String {
        switch self {
        case .corruptValue(let table, let column, let value):
            return "\(table).\(column) holds '\(value)', which this version of Svar does not know"
        case .notFound(let what, let id): return "no \(what) with id '\(id)'"
        case .conflict(let field, let reason): return "\(field): \(reason)"
        case .illegalTransition(let reason): return reason
        }
    }
}
