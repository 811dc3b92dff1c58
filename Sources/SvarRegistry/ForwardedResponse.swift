import Foundation
import SvarDomain

/// One completed, scored questionnaire response as the registry receives it: the unit of forwarding.
/// One Bundle per response, so a registry can accept or refuse each on its own and a retry is per response.
public struct ForwardedResponse: Sendable, Equatable {
    public var responseId: String
    /// Svar's pseudonym for the patient (never sent as such: see `RegistrySubject`).
    public var patientId: String
    public var invitationId: String
    public var courseId: String
    /// RESH-id of the unit responsible for the course when the answer came in.
    public var unit: String
    public var milestone: String
    public var instrument: String
    public var instrumentVersion: String
    public var language: String
    public var respondent: String
    public var submittedAt: Date
    /// `{"linkId": code}` exactly as checked and stored.
    public var answersJSON: String
    public var scores: [StoredScore]

    public init(
        responseId: String, patientId: String, invitationId: String, courseId: String, unit: String, milestone: String,
        instrument: String, instrumentVersion: String, language: String, respondent: String, submittedAt: Date,
        answersJSON: String, scores: [StoredScore]
    ) {
        self.responseId = responseId
        self.patientId = patientId
        self.invitationId = invitationId
        self.courseId = courseId
        self.unit = unit
        self.milestone = milestone
        self.instrument = instrument
        self.instrumentVersion = instrumentVersion
        self.language = language
        self.respondent = respondent
        self.submittedAt = submittedAt
        self.answersJSON = answersJSON
        self.scores = scores
    }
}

/// How the patient is named to the registry (docs/architecture.md): the identity number under its OID where the
/// registry is entitled to it, otherwise the registry pseudonym.
public struct RegistrySubject: Sendable, Equatable {
    public var system: String
    public var value: String
    /// True when `value` is an identity number (the disclosure log says so).
    public var isIdentityNumber: Bool

    public static let pseudonymSystem = "urn:svar:registry-pseudonym"

    public static func pseudonym(_ value: String) -> RegistrySubject {
        RegistrySubject(system: pseudonymSystem, value: value, isIdentityNumber: false)
    }

    public init(system: String, value: String, isIdentityNumber: Bool) {
        self.system = system
        self.value = value
        self.isIdentityNumber = isIdentityNumber
    }
}

/// What one forward carries to a target.
public struct RegistrySubmission: Sendable {
    public var response: ForwardedResponse
    /// The registry's key for the patient: stable, keyed, meaningless without Svar's key.
    public var pseudonym: String
    public var subject: RegistrySubject
    /// The identity number for a target that keeps its own identity vault (the local registry store).
    public var identity: RegistrySubject?
    /// The FHIR transaction Bundle (compact JSON).
    public var bundle: String
    /// Sent as `Idempotency-Key`: the same on every retry of this response.
    public var idempotencyKey: String

    public init(
        response: ForwardedResponse, pseudonym: String, subject: RegistrySubject, identity: RegistrySubject?, bundle: String,
        idempotencyKey: String
    ) {
        self.response = response
        self.pseudonym = pseudonym
        self.subject = subject
        self.identity = identity
        self.bundle = bundle
        self.idempotencyKey = idempotencyKey
    }
}

/// What a target said about one submission.
public enum ForwardOutcome: Sendable, Equatable {
    /// The registry holds it (newly, or already from an earlier attempt). `detail` is kept with the disclosure.
    case accepted(detail: String)
    /// Try again later (timeout, refused connection, 5xx, 429); never sooner than `retryAfter`.
    case transient(reason: String, retryAfter: TimeInterval?)
    /// The registry refuses it for good (4xx): retrying will not help; it goes to the dead-letter list.
    case permanent(reason: String)
}

/// What a deletion did at a target, and what it could not undo.
public struct ErasureReport: Sendable, Equatable, Codable {
    public var erased: [String]
    public var kept: [String]
    public init(erased: [String] = [], kept: [String] = []) {
        self.erased = erased
        self.kept = kept
    }
}

/// How a registry target receives the patient's identity number.
public enum IdentityUse: Sendable, Equatable {
    /// Never: the Bundle names the patient by the registry pseudonym only.
    case pseudonymOnly
    /// Apart from the results: the target seals it in its own identity vault; the Bundle keeps the pseudonym.
    case separateVault
    /// As the Patient identifier in the Bundle, under its OID (`SVAR_REGISTRY_IDENTITY=number`).
    case patientIdentifier
}

/// A registry that receives results: the local registry store (embedded default) or a FHIR server.
public protocol RegistryTarget: Sendable {
    /// Who receives the data, as written to the disclosure log (§ 4-7).
    var recipient: String { get }
    /// Whether and how the recipient gets the identity number (docs/regulation.md).
    var identityUse: IdentityUse { get }
    func submit(_ submission: RegistrySubmission) async -> ForwardOutcome
    /// Carries out a deletion request for one registry pseudonym.
    func erase(pseudonym: String, at: Date) async throws -> ErasureReport
}
