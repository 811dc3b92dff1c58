import Hummingbird
import SvarDomain
import SvarStore

/// The JSON shape of courses and invitations in the API (a contract: see issue #3 and the OpenAPI document).
struct CourseJSON: ResponseEncodable, Sendable {
    let id: String
    let patient: String
    let unit: String
    let type: String
    let status: String
    let events: [EventJSON]
    let invitations: [InvitationJSON]

    init(_ c: CourseRecord) {
        id = c.id
        patient = c.patientId
        unit = c.unit
        type = c.type.rawValue
        status = c.status.rawValue
        events = c.events.map(EventJSON.init)
        invitations = c.invitations.map(InvitationJSON.init)
    }
}

struct EventJSON: Encodable, Sendable {
    let id: String
    let type: String
    let date: String
    let unit: String
    @Nullable var nprCode: String?
    let recordedBy: String

    init(_ e: PathwayEvent) {
        id = e.id
        type = e.type.rawValue
        date = e.date.description
        unit = e.unit
        nprCode = e.nprCode
        recordedBy = e.recordedBy
    }
}

struct InvitationJSON: Encodable, Sendable {
    struct Reminder: Encodable, Sendable {
        let sequence: Int
        let dueAt: String
        let state: String
    }

    struct Change: Encodable, Sendable {
        let at: String
        @Nullable var from: String?
        let to: String
        let cause: String
        let actor: String
    }

    let id: String
    let milestone: String
    let instruments: [String]
    let state: String
    let remindersSent: Int
    @Nullable var cancelReason: String?
    let dueDate: String
    let opensAt: String
    let closesAt: String
    let reminders: [Reminder]
    let history: [Change]

    init(_ i: InvitationRecord) {
        id = i.id
        milestone = i.milestone
        instruments = i.instruments
        state = i.state.rawValue
        remindersSent = i.remindersSent
        cancelReason = i.cancelReason?.rawValue
        dueDate = i.dueDate.description
        opensAt = OsloTime.iso8601(i.opensAt)
        closesAt = OsloTime.iso8601(i.closesAt)
        reminders = i.reminders.map { Reminder(sequence: $0.sequence, dueAt: OsloTime.iso8601($0.dueAt), state: $0.state.rawValue) }
        history = i.history.map {
            Change(at: OsloTime.iso8601($0.at), from: $0.from?.rawValue, to: $0.to.rawValue, cause: $0.cause, actor: $0.actor)
        }
    }
}
