import Foundation

/// Encodes nil as JSON `null`: the API's documents list every member, even an empty one, where a synthesized
/// `Encodable` would leave the member out.
@propertyWrapper
public struct Nullable<Value: Encodable & Sendable>: Encodable, Sendable {
    public var wrappedValue: Value?

    public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

/// The one JSON encoding of Svar's documents (API responses, outbox payloads, command output).
public enum JSONText {
    /// Sorted keys, so the same value always gives the same text (outbox rows and tests compare it); `/` as is.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func string(_ value: some Encodable) throws -> String {
        String(decoding: try encoder().encode(value), as: UTF8.self)
    }
}
