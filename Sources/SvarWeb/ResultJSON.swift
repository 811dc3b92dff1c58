import Foundation
import Hummingbird
import SvarDomain
import SvarInstruments
import SvarStore

/// The JSON shape of one answered questionnaire in the API (a contract: see /openapi.json). Built as a `JSONValue`
/// rather than an `Encodable` type on purpose: answers and scores are exact decimals (an EQ-5D index is a decimal
/// sum), which `JSONEncoder` would pass through binary floating point.
enum ResultJSON {
    static func result(_ r: ResultRecord) -> JSONValue {
        let answers = (try? JSONParser.parse(r.answersJSON)) ?? .object([])
        return .object([
            ("invitation", .string(r.invitationId)), ("course", .string(r.courseId)), ("unit", .string(r.unit)),
            ("milestone", .string(r.milestone)), ("instrument", .string(r.instrument)),
            ("submittedAt", .string(OsloTime.iso8601(r.submittedAt))),
            ("answers", answers),
            (
                "scores",
                .array(
                    r.scores.map { score in
                        var members: [(String, JSONValue)] = [("key", .string(score.key))]
                        if let number = score.number {
                            members.append(("value", .number(number)))
                        } else if let flag = score.flag {
                            members.append(("value", .bool(flag)))
                        } else {
                            members.append(("value", .null))
                        }
                        members.append(("algorithm", .string(score.algorithm)))
                        members.append(("valueSet", score.valueSet.map(JSONValue.string) ?? .null))
                        return .object(members)
                    })
            ),
        ])
    }
}

extension Response {
    /// A `JSONValue` document, for the answers and scores whose numbers must keep their exact decimal text.
    static func exactJSON(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: value.serialized))
        )
    }
}
