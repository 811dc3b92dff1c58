import Foundation
import Hummingbird
import SvarInstruments

/// A request body parsed strictly: JSON object only, no unknown fields, typed accessors that name the field.
struct JSONBody {
    static let maximumSize = 64 * 1024
    let members: [(String, JSONValue)]

    static func read(_ request: Request, allowed: Set<String>) async throws -> JSONBody {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/json") else {
            throw Problem(status: .unsupportedMediaType, title: "Unsupported media type",
                          detail: "send the body as application/json (got '\(type.isEmpty ? "nothing" : type)')")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maximumSize)
        } catch {
            throw Problem(status: .contentTooLarge, title: "Body too large", detail: "the body must be at most \(maximumSize / 1024) KiB")
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(Array(buffer.readableBytesView))
        } catch {
            throw Problem(status: .badRequest, title: "Invalid JSON", detail: error.description)
        }
        guard case let .object(members) = value else {
            throw Problem(status: .badRequest, title: "Invalid JSON", detail: "the body must be a JSON object")
        }
        if let unknown = members.first(where: { !allowed.contains($0.0) }) {
            throw Problem.invalid(unknown.0, "unknown field (allowed: \(allowed.sorted().joined(separator: ", ")))")
        }
        return JSONBody(members: members)
    }

    func value(_ key: String) -> JSONValue? {
        members.first { $0.0 == key }.flatMap { $0.1 == .null ? nil : $0.1 }
    }

    func optionalString(_ key: String) throws -> String? {
        guard let value = value(key) else { return nil }
        guard case let .string(s) = value else { throw Problem.invalid(key, "expected text, found \(value.kindDescription)") }
        let trimmed = s.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }

    func optionalStrings(_ key: String) throws -> [String]? {
        guard let value = value(key) else { return nil }
        guard case let .array(items) = value else { throw Problem.invalid(key, "expected a list of texts, found \(value.kindDescription)") }
        return try items.map { item in
            guard case let .string(s) = item else { throw Problem.invalid(key, "expected a list of texts, found \(item.kindDescription) in it") }
            return s
        }
    }

    func string(_ key: String) throws -> String {
        guard let s = try optionalString(key) else { throw Problem.invalid(key, "is required") }
        return s
    }
}
