import Foundation
import SvarDomain

/// A treatment unit, keyed by its RESH-id (a string: no check digit, no fixed length).
public struct Unit: Sendable, Equatable, Codable {
    public var resh: String
    public var name: String
    public var parent: String?
    public init(resh: String, name: String, parent: String? = nil) {
        self.resh = resh
        self.name = name
        self.parent = parent
    }
}

/// A patient as the health data knows them: a pseudonym, never the identity number.
public struct PatientRecord: Sendable, Equatable {
    public var id: String
    public var language: String
    public var createdAt: Date
    public var reservedAt: Date?
    public var deletionRequestedAt: Date?
    public var isReserved: Bool { reservedAt != nil }
    public init(id: String, language: String, createdAt: Date, reservedAt: Date? = nil, deletionRequestedAt: Date? = nil) {
        self.id = id
        self.language = language
        self.createdAt = createdAt
        self.reservedAt = reservedAt
        self.deletionRequestedAt = deletionRequestedAt
    }
}

/// What is stored about a new patient: the pseudonym, the keyed lookup hash and the sealed identity.
///
/// `units` are the units that registered the patient: each keeps the identity as it typed it, so a unit that
/// later registers the same number sees its own record and never what another unit typed (docs/domain.md).
public struct PatientEnrolment: Sendable {
    public var id: String
    public var language: String
    public var lookupHash: [UInt8]
    public var sealedIdentity: SealedIdentity
    public var units: Set<String>
    public init(id: String, language: String, lookupHash: [UInt8], sealedIdentity: SealedIdentity, units: Set<String> = []) {
        self.id = id
        self.language = language
        self.lookupHash = lookupHash
        self.sealedIdentity = sealedIdentity
        self.units = units
    }
}

public enum EnrolmentResult: Sendable, Equatable {
    case created(String)
    case existing(String)
}

public struct NewCourse: Sendable {
    public var id: String
    public var patientId: String
    public var unit: String
    public var type: CourseType
    public init(id: String, patientId: String, unit: String, type: CourseType) {
        self.id = id
        self.patientId = patientId
        self.unit = unit
        self.type = type
    }
}

public enum CourseStatus: String, Sendable, Codable, CaseIterable {
    case active, ended, brokenOff
}

public struct CourseRecord: Sendable, Equatable {
    public var id: String
    public var patientId: String
    /// The unit responsible now (changes with `transfer`).
    public var unit: String
    public var type: CourseType
    public var status: CourseStatus
    public var createdAt: Date
    public var events: [PathwayEvent]
    public var invitations: [InvitationRecord]
    public init(
        id: String, patientId: String, unit: String, type: CourseType, status: CourseStatus, createdAt: Date, events: [PathwayEvent],
        invitations: [InvitationRecord]
    ) {
        self.id = id
        self.patientId = patientId
        self.unit = unit
        self.type = type
        self.status = status
        self.createdAt = createdAt
        self.events = events
        self.invitations = invitations
    }
}

public struct InvitationChange: Sendable, Equatable {
    public var at: Date
    public var from: InvitationState?
    public var to: InvitationState
    public var cause: String
    public var actor: String
    public init(at: Date, from: InvitationState? = nil, to: InvitationState, cause: String, actor: String) {
        self.at = at
        self.from = from
        self.to = to
        self.cause = cause
        self.actor = actor
    }
}

public struct ReminderRecord: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable { case pending, sent, cancelled }
    public var sequence: Int
    public var dueAt: Date
    public var state: State
    public init(sequence: Int, dueAt: Date, state: State) {
        self.sequence = sequence
        self.dueAt = dueAt
        self.state = state
    }
}

public struct InvitationRecord: Sendable, Equatable {
    public var id: String
    public var courseId: String
    public var patientId: String
    public var milestone: String
    public var instruments: [String]
    public var triggerEventId: String
    public var dueDate: LocalDate
    public var state: InvitationState
    public var remindersSent: Int
    public var cancelReason: CancelReason?
    public var opensAt: Date
    public var closesAt: Date
    public var history: [InvitationChange]
    public var reminders: [ReminderRecord]
    public init(
        id: String, courseId: String, patientId: String, milestone: String, instruments: [String], triggerEventId: String,
        dueDate: LocalDate, state: InvitationState, remindersSent: Int, cancelReason: CancelReason? = nil, opensAt: Date, closesAt: Date,
        history: [InvitationChange], reminders: [ReminderRecord]
    ) {
        self.id = id
        self.courseId = courseId
        self.patientId = patientId
        self.milestone = milestone
        self.instruments = instruments
        self.triggerEventId = triggerEventId
        self.dueDate = dueDate
        self.state = state
        self.remindersSent = remindersSent
        self.cancelReason = cancelReason
        self.opensAt = opensAt
        self.closesAt = closesAt
        self.history = history
        self.reminders = reminders
    }
}

public struct AuditEntry: Sendable, Equatable {
    public var at: Date
    public var actor: String
    public var action: String
    /// The pseudonym (or other id) the action concerns; never an identity number.
    public var subject: String
    public var detail: String
    public init(at: Date, actor: String, action: String, subject: String, detail: String = "") {
        self.at = at
        self.actor = actor
        self.action = action
        self.subject = subject
        self.detail = detail
    }
}

/// What an outbox row asks for: a message to the patient (`invitation`, `reminder`, `code`) or work at the
/// registry (`forward`, `erase`).
public enum OutboxKind: String, Sendable, CaseIterable {
    case invitation, reminder, code, forward, erase
}

public struct OutboxItem: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable { case queued, sending, sent, failed, cancelled }
    public var id: String
    public var kind: OutboxKind
    public var patientId: String
    public var invitationId: String?
    public var idempotencyKey: String
    public var state: State
    public var attempts: Int
    public var createdAt: Date
    /// Where it went (`email`, `sms`) once sent.
    public var channel: String? = nil
    public var messageId: String? = nil
    public var lastError: String? = nil
    public var failures: [String] = []
    public init(
        id: String, kind: OutboxKind, patientId: String, invitationId: String? = nil, idempotencyKey: String, state: State, attempts: Int,
        createdAt: Date, channel: String? = nil, messageId: String? = nil, lastError: String? = nil, failures: [String] = []
    ) {
        self.id = id
        self.kind = kind
        self.patientId = patientId
        self.invitationId = invitationId
        self.idempotencyKey = idempotencyKey
        self.state = state
        self.attempts = attempts
        self.createdAt = createdAt
        self.channel = channel
        self.messageId = messageId
        self.lastError = lastError
        self.failures = failures
    }
}

/// What one scheduler pass changed.
public struct TickReport: Sendable, Equatable {
    public var invited = 0
    public var reminded = 0
    public var expired = 0
    public var cancelledReminders = 0
    public var nudges = 0
    public init() {}
}

public struct ClinicianNudge: Sendable, Equatable {
    public var courseId: String
    /// The protocol milestone the nudge is about (its `nudgeAfterDays`).
    public var milestone: String
    public var dueDate: LocalDate
    public var createdAt: Date
    /// The course's patient and unit, for the clinician pages' lists.
    public var patientId: String
    public var unit: String
    public init(courseId: String, milestone: String, dueDate: LocalDate, createdAt: Date, patientId: String = "", unit: String = "") {
        self.courseId = courseId
        self.patientId = patientId
        self.unit = unit
        self.milestone = milestone
        self.dueDate = dueDate
        self.createdAt = createdAt
    }
}

/// A signing key for patient links, stored sealed by the vault.
public struct StoredSigningKey: Sendable, Equatable {
    public var id: UInt32
    public var createdAt: Date
    public var sealed: SealedIdentity
    /// A retired key verifies no link (`svar keys retire`).
    public var retiredAt: Date?
    public init(id: UInt32, createdAt: Date, sealed: SealedIdentity, retiredAt: Date? = nil) {
        self.id = id
        self.createdAt = createdAt
        self.sealed = sealed
        self.retiredAt = retiredAt
    }
}
