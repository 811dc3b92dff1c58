import Hummingbird
import SvarDomain
import SvarServices
import SvarStore

/// The API's response documents (a contract: see the OpenAPI document at /openapi.json). Encoded with the request
/// context's encoder (`JSONText`: sorted keys); members that may be empty are `null`, never left out.

struct UnitJSON: ResponseEncodable, Sendable {
    let resh: String
    let name: String
    @Nullable var parent: String?
}

/// What `POST /units` answers: the unit as created.
struct CreatedUnitJSON: ResponseEncodable, Sendable {
    let resh: String
    let name: String
}

/// The id of what a call created (a patient or a course).
struct CreatedJSON: ResponseEncodable, Sendable {
    let id: String
}

struct ReservationJSON: ResponseEncodable, Sendable {
    let cancelledInvitations: Int
}

struct LinkJSON: ResponseEncodable, Sendable {
    let url: String
    let expiresAt: String
}

struct NudgeJSON: ResponseEncodable, Sendable {
    let course: String
    let dueDate: String

    init(_ nudge: ClinicianNudge) {
        course = nudge.courseId
        dueDate = nudge.dueDate.description
    }
}

struct UnreachableJSON: ResponseEncodable, Sendable {
    let invitation: String
    let course: String
    let patient: String
    let unit: String
    let milestone: String
    let since: String
    let reasons: [String]

    init(_ item: UnreachableInvitation) {
        invitation = item.invitationId
        course = item.courseId
        patient = item.patientId
        unit = item.unit
        milestone = item.milestone
        since = OsloTime.iso8601(item.since)
        reasons = item.reasons
    }
}

struct RetryJSON: ResponseEncodable, Sendable {
    let id: String
    let state: String
}

struct HealthJSON: ResponseEncodable, Sendable {
    let status: String
    let version: String
    let instruments: [String]
}

// The forwarding documents are shared with the command line (SvarServices); here they only learn to be responses.
extension DisclosureJSON: ResponseEncodable {}
extension FailedForwardJSON: ResponseEncodable {}
extension DeletionReportJSON: ResponseEncodable {}
