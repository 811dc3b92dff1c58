import Foundation
import Hummingbird

/// A JSON request body of the API: decoded into a `Decodable` DTO whose `CodingKeys` name every member it takes,
/// so an unknown member can be refused by name (an integrator's typo must not be silently ignored).
protocol APIRequestBody: Decodable {
    associatedtype CodingKeys: CodingKey & CaseIterable
}

/// Reads API bodies strictly: `application/json` only, at most 64 KiB, an object, no unknown members, and a
/// member of the wrong type refused with its name — the same problems an integrator got before the DTOs.
enum JSONBody {
    static let maximumSize = 64 * 1024

    static func read<Body: APIRequestBody>(_ type: Body.Type, from request: Request) async throws -> Body {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") else {
            throw Problem(
                status: .unsupportedMediaType, title: "Unsupported media type",
                detail: "send the body as application/json (got '\(contentType.isEmpty ? "nothing" : contentType)')")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maximumSize)
        } catch {
            throw Problem(status: .contentTooLarge, title: "Body too large", detail: "the body must be at most \(maximumSize / 1024) KiB")
        }
        let data = Data(buffer.readableBytesView)
        let decoder = JSONDecoder()
        // First the members and their kinds (to refuse unknown ones by name), then the DTO itself.
        let members: [String: Kind]
        do {
            members = try decoder.decode([String: Kind].self, from: data)
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty {
            throw Problem(status: .badRequest, title: "Invalid JSON", detail: "the body must be a JSON object")
        } catch {
            throw Problem(status: .badRequest, title: "Invalid JSON", detail: "the body is not valid JSON")
        }
        let allowed = Set(Body.CodingKeys.allCases.map(\.stringValue))
        if let unknown = members.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw Problem.invalid(unknown, "unknown field (allowed: \(allowed.sorted().joined(separator: ", ")))")
        }
        do {
            return try decoder.decode(Body.self, from: data)
        } catch let DecodingError.typeMismatch(expected, context) {
            throw mismatch(expected, context.codingPath, members)
        } catch let DecodingError.valueNotFound(expected, context) {
            throw mismatch(expected, context.codingPath, members)
        }
    }

    /// "expected text, found the number 12", naming the member (and saying so when it is an item of a list).
    static func mismatch(_ expected: Any.Type, _ path: [any CodingKey], _ members: [String: Kind]) -> Problem {
        let field = path.first?.stringValue ?? "$"
        let kind = members[field] ?? .null
        if path.count > 1, case .list(let items) = kind, let index = path[1].intValue, index < items.count {
            return Problem.invalid(field, "expected a list of texts (JSON strings), found \(items[index].description) in it")
        }
        let wanted = expected == String.self ? "text (a JSON string)" : "a list of texts (JSON strings)"
        return Problem.invalid(field, "expected \(wanted), found \(kind.description)")
    }

    /// What a member holds, for the error messages.
    indirect enum Kind: Decodable, CustomStringConvertible {
        case null
        case bool
        case number(String)
        case text
        case list([Kind])
        case object

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer()
            if value.decodeNil() {
                self = .null
            } else if (try? value.decode(Bool.self)) != nil {
                self = .bool
            } else if (try? value.decode(String.self)) != nil {
                self = .text
            } else if let items = try? value.decode([Kind].self) {
                self = .list(items)
            } else if (try? value.decode([String: Kind].self)) != nil {
                self = .object
            } else {
                self = .number((try? value.decode(Decimal.self)).map { "\($0)" } ?? "")
            }
        }

        var description: String {
            switch self {
            case .null: return "null"
            case .bool: return "true/false"
            case .number(let text): return text.isEmpty ? "a number" : "the number \(text)"
            case .text: return "text"
            case .list: return "a list"
            case .object: return "an object"
            }
        }
    }
}

extension String? {
    /// The text without surrounding spaces; nil when nothing is left (an empty member counts as absent).
    var trimmed: String? {
        guard let text = self?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        return text
    }

    /// The trimmed text, or the API's "is required" problem naming the member.
    func required(_ field: String) throws -> String {
        guard let text = trimmed else { throw Problem.invalid(field, "is required") }
        return text
    }
}
