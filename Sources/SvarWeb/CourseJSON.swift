import SvarDomain
import SvarInstruments
import SvarStore

/// The JSON shape of courses and invitations in the API (a contract: see issue #3 and the OpenAPI document).
enum CourseJSON {
    static func course(_ c: CourseRecord) -> JSONValue {
        .object([
            ("id", .string(c.id)), ("patient", .string(c.patientId)), ("unit", .string(c.unit)), ("type", .string(c.type.rawValue)),
            ("status", .string(c.status.rawValue)),
            ("events", .array(c.events.map(event))),
            ("invitations", .array(c.invitations.map(invitation))),
        ])
    }

    static func event(_ e: PathwayEvent) -> JSONValue {
        .object([
            ("id", .string(e.id)), ("type", .string(e.type.rawValue)), ("date", .string(e.date.description)),
            ("unit", .string(e.unit)), ("nprCode", e.nprCode.map(JSONValue.string) ?? .null), ("recordedBy", .string(e.recordedBy)),
        ])
    }

    static func invitation(_ i: InvitationRecord) -> JSONValue {
        .object([
            ("id", .string(i.id)), ("milestone", .string(i.milestone)), ("instruments", .array(i.instruments.map(JSONValue.string))),
            ("state", .string(i.state.rawValue)), ("remindersSent", .int(i.remindersSent)),
            ("cancelReason", i.cancelReason.map { .string($0.rawValue) } ?? .null),
            ("dueDate", .string(i.dueDate.description)),
            ("opensAt", .string(OsloTime.iso8601(i.opensAt))), ("closesAt", .string(OsloTime.iso8601(i.closesAt))),
            ("reminders", .array(i.reminders.map { r in
                .object([("sequence", .int(r.sequence)), ("dueAt", .string(OsloTime.iso8601(r.dueAt))), ("state", .string(r.state.rawValue))])
            })),
            ("history", .array(i.history.map { h in
                .object([
                    ("at", .string(OsloTime.iso8601(h.at))), ("from", h.from.map { .string($0.rawValue) } ?? .null),
                    ("to", .string(h.to.rawValue)), ("cause", .string(h.cause)), ("actor", .string(h.actor)),
                ])
            })),
        ])
    }
}
