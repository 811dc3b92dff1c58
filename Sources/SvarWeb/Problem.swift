import Hummingbird
import SvarDomain
import SvarInstruments
import SvarServices
import SvarStore

/// An RFC 9457 problem: what API callers get for every error, with the offending field where there is one.
struct Problem: Error {
    let status: HTTPResponse.Status
    let title: String
    let detail: String
    var field: String?
    var extra: [(String, JSONValue)] = []

    var response: Response {
        var members: [(String, JSONValue)] = [
            ("type", .string("about:blank")), ("title", .string(title)), ("status", .int(Int(status.code))), ("detail", .string(detail)),
        ]
        if let field { members.append(("field", .string(field))) }
        members += extra
        return Response(status: status, headers: [.contentType: "application/problem+json"],
                        body: .init(byteBuffer: ByteBuffer(string: JSONValue.object(members).serialized)))
    }

    static func invalid(_ field: String, _ detail: String) -> Problem {
        Problem(status: .badRequest, title: "Invalid input", detail: "\(field): \(detail)", field: field)
    }

    /// Maps the errors of the layers below to problems; anything unexpected is a 500 without details.
    static func from(_ error: any Error) -> Problem? {
        switch error {
        case let problem as Problem: return problem
        case let input as InputProblem: return .invalid(input.field, input.reason)
        case let pathway as PathwayError:
            let status: HTTPResponse.Status = pathway.kind == .invalid ? .badRequest : .conflict
            return Problem(status: status, title: pathway.kind == .duplicate ? "Duplicate event" : "Event not allowed now",
                           detail: pathway.description, field: pathway.field)
        case let store as StoreError:
            switch store {
            case let .notFound(what, id):
                return Problem(status: .notFound, title: "Not found", detail: "no \(what) with id '\(id)'")
            case let .conflict(field, reason):
                return Problem(status: .conflict, title: "Conflict", detail: "\(field): \(reason)", field: field)
            case let .illegalTransition(reason):
                return Problem(status: .conflict, title: "Not allowed in this state", detail: reason)
            case .corruptValue:
                return nil    // the server's fault: a plain 500, logged, nothing of the row shown
            }
        default: return nil
        }
    }
}
