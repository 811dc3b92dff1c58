import Crypto
import Foundation

/// The token in a patient's link (`/a/{token}`): which invitation, until when, signed.
///
/// Layout (docs/architecture.md): version ‖ keyId ‖ invitationId ‖ expiry ‖ nonce ‖ HMAC-SHA256 over everything before,
/// base64url without padding. It carries no personal data; the database keeps only a hash of the nonce.
public struct LinkToken: Sendable, Equatable {
    public static let version: UInt8 = 1
    static let bodyLength = 1 + 4 + 16 + 8 + 16
    static let length = bodyLength + 32

    public let keyId: UInt32
    public let invitationId: UUID
    public let expiresAt: Date
    public let nonce: [UInt8]

    public init(keyId: UInt32, invitationId: UUID, expiresAt: Date, nonce: [UInt8]) {
        self.keyId = keyId
        self.invitationId = invitationId
        self.expiresAt = Date(timeIntervalSince1970: expiresAt.timeIntervalSince1970.rounded(.down))
        self.nonce = nonce
    }

    /// A new token with a fresh random nonce.
    public static func issue(keyId: UInt32, invitationId: UUID, expiresAt: Date) -> LinkToken {
        var generator = SystemRandomNumberGenerator()
        return LinkToken(
            keyId: keyId, invitationId: invitationId, expiresAt: expiresAt,
            nonce: (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// SHA-256 of the nonce: what the database stores to recognise this link.
    public var nonceHash: [UInt8] { Array(SHA256.hash(data: nonce)) }

    var body: [UInt8] {
        var bytes: [UInt8] = [LinkToken.version]
        withUnsafeBytes(of: keyId.bigEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: invitationId.uuid) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: Int64(expiresAt.timeIntervalSince1970).bigEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: nonce)
        return bytes
    }

    public func encoded(with key: SymmetricKey) -> String {
        let body = self.body
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: key)
        return Base64URL.encode(body + Array(mac))
    }

    /// Verifies signature (constant time) and expiry before anything touches the database.
    public static func verify(_ text: String, now: Date, key: (UInt32) -> SymmetricKey?) throws(LinkTokenError) -> LinkToken {
        guard text.utf8.count <= 128, let bytes = Base64URL.decode(text), bytes.count == length else { throw .malformed }
        guard bytes[0] == version else { throw .malformed }
        let body = Array(bytes[0..<bodyLength])
        let mac = Array(bytes[bodyLength...])
        let keyId = body[1..<5].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard let signingKey = key(keyId) else { throw .unknownKey }
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: signingKey) else { throw .badSignature }
        let idBytes = Array(body[5..<21])
        let uuid = UUID(
            uuid: (
                idBytes[0], idBytes[1], idBytes[2], idBytes[3], idBytes[4], idBytes[5], idBytes[6], idBytes[7],
                idBytes[8], idBytes[9], idBytes[10], idBytes[11], idBytes[12], idBytes[13], idBytes[14], idBytes[15]
            ))
        let seconds = body[21..<29].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let expiresAt = Date(timeIntervalSince1970: TimeInterval(Int64(bitPattern: seconds)))
        guard now < expiresAt else { throw .expired }
        return LinkToken(keyId: keyId, invitationId: uuid, expiresAt: expiresAt, nonce: Array(body[29..<45]))
    }
}

public enum LinkTokenError: Error, Sendable, Equatable {
    case malformed, unknownKey, badSignature, expired
}

/// base64url without padding (RFC 4648 §5), strict: any other character is refused.
public enum Base64URL {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    /// Each byte's 6-bit value, 255 for bytes outside the alphabet. Decoding runs on every patient request, and
    /// going through Foundation's base64 and `replacingOccurrences` was a tenth of a page's CPU.
    static let values: [UInt8] = {
        var table = [UInt8](repeating: 255, count: 256)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(value) }
        return table
    }()

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var bits = 0
            for byte in chunk { bits = bits << 8 | Int(byte) }
            bits <<= (3 - chunk.count) * 8
            for position in 0...chunk.count { out.append(alphabet[(bits >> (18 - 6 * position)) & 63]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Nil for anything but the one canonical unpadded spelling of some bytes (no stray low bits), so one token
    /// has exactly one spelling.
    public static func decode(_ text: String) -> [UInt8]? {
        let count = text.utf8.count
        guard count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(count * 3 / 4)
        var bits = 0
        var held = 0
        for byte in text.utf8 {
            let value = values[Int(byte)]
            guard value != 255 else { return nil }
            bits = (bits << 6 | Int(value)) & 0xFFFFFF
            held += 6
            if held >= 8 {
                held -= 8
                out.append(UInt8(truncatingIfNeeded: bits >> held))
            }
        }
        guard bits & ((1 << held) - 1) == 0 else { return nil }
        return out
    }
}
