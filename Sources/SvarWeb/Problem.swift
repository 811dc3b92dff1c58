import Foundation
import Hummingbird
import SvarDomain
import SvarInstruments
import SvarServices
import SvarStore

/// An RFC 9457 problem: what API callers get for every error, with the offending field where there is one.
/// Routes throw it; Hummingbird (or `APIProblemMiddleware`) turns it into the `application/problem+json` response.
struct Problem: HTTPResponseError {
    let status: HTTPResponse.Status
    let title: String
    let detail: String
    var field: String?
    /// The resource the problem is about, where the caller needs it (the patient an identity number belongs to).
    var id: String?

    /// The body as sent: `type`, `title`, `status`, `detail`, and `field` and `id` when there are any.
    struct Body: Encodable {
        let type = "about:blank"
        let title: String
        let status: Int
        let detail: String
        let field: String?
        let id: String?
    }

    func response(from request: Request, context: some RequestContext) throws -> Response { try response() }

    func response() throws -> Response {
        let body = Body(title: title, status: Int(status.code), detail: detail, field: field, id: id)
        return Response(
            status: status, headers: [.contentType: "application/problem+json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try JSONText.encoder().encode(body))))
    }

    static func invalid(_ field: String, _ detail: String) -> Problem {
        Problem(status: .badRequest, title: "Invalid input", detail: "\(field): \(detail)", field: field)
    }

    /// Maps the errors of the layers below to problems (the one place that does); anything else is left to the
    /// caller (a 500 without details).
    static func from(_ error: any Error) -> Problem? {
        switch error {
        case let problem as Problem: return problem
        case let input as InputProblem: return .invalid(input.field, input.reason)
        case let pathway as PathwayError:
            let status: HTTPResponse.Status = pathway.kind == .invalid ? .badRequest : .conflict
            return Problem(
                status: status, title: pathway.kind == .duplicate ? "Duplicate event" : "Event not allowed now",
                detail: pathway.description, field: pathway.field)
        case let store as StoreError:
            switch store {
            case .notFound(let what, let id):
                return Problem(status: .notFound, title: "Not found", detail: "no \(what) with id '\(id)'")
            case .conflict(let field, let reason):
                return Problem(status: .conflict, title: "Conflict", detail: "\(field): \(reason)", field: field)
            case .illegalTransition(let reason):
                return Problem(status: .conflict, title: "Not allowed in this state", detail: reason)
            case .corruptValue:
                return nil  // the server's fault: a plain 500, logged, nothing of the row shown
            }
        default: return nil
        }
    }
}
