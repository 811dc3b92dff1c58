import Foundation
import SvarDomain

/// A submitted answer that the instrument's data mark as safety-relevant (an overdose, injecting, the worst level
/// of anxiety or depression), kept until a clinician of the unit says they have seen it. Recorded with the
/// submission, in the same transaction, so no flagged answer can be stored without its flag.
public struct SafetyFlagRecord: Sendable, Equatable {
    public var responseId: String
    public var invitationId: String
    public var patientId: String
    public var courseId: String
    public var unit: String
    public var milestone: String
    public var instrument: String
    public var submittedAt: Date
    /// The `linkId`s whose answers raised the flag, in the instrument's order.
    public var items: [String]
    public var seenAt: Date?
    public var seenBy: String?
    public init(
        responseId: String, invitationId: String, patientId: String, courseId: String, unit: String, milestone: String,
        instrument: String, submittedAt: Date, items: [String], seenAt: Date? = nil, seenBy: String? = nil
    ) {
        self.responseId = responseId
        self.invitationId = invitationId
        self.patientId = patientId
        self.courseId = courseId
        self.unit = unit
        self.milestone = milestone
        self.instrument = instrument
        self.submittedAt = submittedAt
        self.items = items
        self.seenAt = seenAt
        self.seenBy = seenBy
    }
}

/// The flags clinicians look at: listed within a scope like every read of patient data, and marked seen, audited.
public protocol SafetyFlagStore: Sendable {
    /// Flags of courses in `scope`, newest first: one patient's (`patientId`) or everyone's, all or only the
    /// unseen. Patients who asked for deletion are left out.
    func safetyFlags(in scope: Scope, patientId: String?, unseenOnly: Bool) async throws -> [SafetyFlagRecord]
    /// Marks the flag seen by `actor` and writes the audit entry, in one transaction. False when there is no such
    /// flag in `scope`; marking a seen flag again keeps the first mark.
    func markSafetyFlagSeen(responseId: String, in scope: Scope, actor: String, at: Date) async throws -> Bool
}
