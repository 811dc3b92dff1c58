import Foundation
import SvarDomain
import SvarInstruments
import SvarStore

/// The JSON shapes of the disclosure log, the dead-letter list and deletion reports: one shape for the API
/// and the CLI (a contract registry staff's tools depend on).
extension Disclosure {
    public var json: JSONValue {
        .object([
            ("at", .string(OsloTime.iso8601(at))), ("recipient", .string(recipient)), ("patient", .string(subject)),
            ("identifiedBy", .string(identifiedBy)), ("dataSet", .string(dataSet)), ("response", .string(responseId)),
            ("basis", .string(basis)), ("receipt", .string(receipt)),
        ])
    }
}

extension FailedForward {
    public var json: JSONValue {
        .object([
            ("id", .string(id)), ("patient", .string(patientId)), ("response", responseId.map(JSONValue.string) ?? .null),
            ("attempts", .int(attempts)), ("failedAt", .string(OsloTime.iso8601(failedAt))), ("reason", .string(reason)),
        ])
    }
}

extension DeletionReport {
    public var json: JSONValue {
        .object([
            ("patient", .string(patientId)), ("state", .string(state.rawValue)), ("requestedAt", .string(OsloTime.iso8601(requestedAt))),
            ("deadline", .string(OsloTime.iso8601(deadline))), ("completedAt", completedAt.map { .string(OsloTime.iso8601($0)) } ?? .null),
            ("erased", .array(erased.map(JSONValue.string))), ("kept", .array(kept.map(JSONValue.string))),
        ])
    }
}
