import Crypto
import Foundation

/// The direct identifiers of a patient: kept only sealed (AES-GCM) in the vault table (§ 5-2).
public struct Identity: Sendable, Equatable, Codable {
    public var identityNumber: String
    public var name: String?
    public var email: String?
    public var mobile: String?
    public var birthDate: String?
    /// The patient's own channel order (`sms`, `email`), if they or their clinician chose one; otherwise the
    /// installation's `SVAR_CHANNEL_ORDER` applies. Kept in the vault: it says how to reach a person.
    public var channels: [String]?
    public init(
        identityNumber: String, name: String? = nil, email: String? = nil, mobile: String? = nil, birthDate: String? = nil,
        channels: [String]? = nil
    ) {
        self.identityNumber = identityNumber
        self.name = name
        self.email = email
        self.mobile = mobile
        self.birthDate = birthDate
        self.channels = channels
    }
}

/// Ciphertext as stored: which key sealed it, and the AES-GCM combined box (nonce ‖ ciphertext ‖ tag).
public struct SealedIdentity: Sendable, Equatable {
    public var keyId: String
    public var box: [UInt8]
    public init(keyId: String, box: [UInt8]) {
        self.keyId = keyId
        self.box = box
    }
}

/// Encrypts identities and derives the keyed lookup hash, from one 32-byte master key (`SVAR_VAULT_KEY`).
///
/// Sub-keys are derived with HKDF so the lookup hash and the link-signing keys never reuse the encryption
/// key. The patient's pseudonym is bound to each box as associated data: a box copied to another row
/// does not open.
public struct IdentityVault: Sendable {
    public let keyId: String
    private let sealingKey: SymmetricKey
    private let lookupKey: SymmetricKey
    private let linkKeySealingKey: SymmetricKey
    private let pseudonymKey: SymmetricKey
    private let keyedHashKey: SymmetricKey
    /// The local registry store seals its own identity vault with this key (never the one above).
    public let registryStoreKey: SymmetricKey

    public init(masterKey: [UInt8], keyId: String = "v1") throws(VaultError) {
        guard masterKey.count == 32 else {
            throw .badKey("the vault key must be 32 bytes (base64 of 32 random bytes); got \(masterKey.count)")
        }
        let master = SymmetricKey(data: masterKey)
        self.keyId = keyId
        sealingKey = IdentityVault.derive(master, "svar identity vault sealing")
        lookupKey = IdentityVault.derive(master, "svar identity lookup hash")
        linkKeySealingKey = IdentityVault.derive(master, "svar link signing keys")
        pseudonymKey = IdentityVault.derive(master, "svar registry pseudonym")
        keyedHashKey = IdentityVault.derive(master, "svar keyed hashes")
        registryStoreKey = IdentityVault.derive(master, "svar local registry vault")
    }

    /// Reads `SVAR_VAULT_KEY` (base64) or, failing that, the file named by `SVAR_VAULT_KEY_FILE`.
    public static func fromEnvironment(_ environment: [String: String]) throws(VaultError) -> IdentityVault {
        var text = environment["SVAR_VAULT_KEY"] ?? ""
        if text.isEmpty, let file = environment["SVAR_VAULT_KEY_FILE"], !file.isEmpty {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw .badKey("SVAR_VAULT_KEY_FILE=\(file): cannot be read")
            }
            text = String(decoding: data, as: UTF8.self)
        }
        text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw .missingKey }
        guard let bytes = Data(base64Encoded: text) else { throw .badKey("SVAR_VAULT_KEY is not base64") }
        guard bytes.count == 32 else {
            throw .badKey(
                "SVAR_VAULT_KEY must be base64 of 32 random bytes (it holds \(bytes.count)); create one with: openssl rand -base64 32")
        }
        return try IdentityVault(masterKey: [UInt8](bytes))
    }

    /// A new random master key, base64, for `svar demo` and first installations.
    public static func generateKeyBase64() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    static func derive(_ master: SymmetricKey, _ info: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: master, info: Array(info.utf8), outputByteCount: 32)
    }

    public func seal(_ identity: Identity, patientId: String) throws -> SealedIdentity {
        let plaintext = try JSONEncoder().encode(identity)
        let box = try AES.GCM.seal(plaintext, using: sealingKey, authenticating: Array(patientId.utf8))
        guard let combined = box.combined else { throw VaultError.badKey("AES-GCM produced no combined box") }
        return SealedIdentity(keyId: keyId, box: [UInt8](combined))
    }

    public func open(_ sealed: SealedIdentity, patientId: String) throws -> Identity {
        guard sealed.keyId == keyId else { throw VaultError.badKey("sealed with key '\(sealed.keyId)', this vault has '\(keyId)'") }
        let box = try AES.GCM.SealedBox(combined: sealed.box)
        let plaintext = try AES.GCM.open(box, using: sealingKey, authenticating: Array(patientId.utf8))
        return try JSONDecoder().decode(Identity.self, from: plaintext)
    }

    /// HMAC-SHA256 of the identity number under a derived key: finds a patient without decrypting anything,
    /// and means nothing without the key.
    public func lookupHash(identityNumber: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(identityNumber.utf8), using: lookupKey))
    }

    /// HMAC-SHA256 of `text` for `purpose` (e.g. a submitted login name, which may be a mistyped password):
    /// countable and comparable, but never stored in clear.
    public func keyedHash(_ text: String, purpose: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array("\(purpose)\u{0}\(text)".utf8), using: keyedHashKey))
    }

    /// The registry's key for a patient (like Kvarus's PasientGUID): stable, and not linkable to Svar's own
    /// pseudonym without the vault key.
    public func registryPseudonym(patientId: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Array(patientId.utf8), using: pseudonymKey).prefix(16).map { String(format: "%02x", $0) }
            .joined()
    }

    /// Seals a small secret (a TOTP seed) bound to `context`, so it opens only where it was stored.
    public func sealSecret(_ secret: String, context: String) throws -> SealedIdentity {
        let box = try AES.GCM.seal(Array(secret.utf8), using: sealingKey, authenticating: Array("secret:\(context)".utf8))
        guard let combined = box.combined else { throw VaultError.badKey("AES-GCM produced no combined box") }
        return SealedIdentity(keyId: keyId, box: [UInt8](combined))
    }

    public func openSecret(_ sealed: SealedIdentity, context: String) throws -> String {
        guard sealed.keyId == keyId else { throw VaultError.badKey("sealed with key '\(sealed.keyId)', this vault has '\(keyId)'") }
        let plain = try AES.GCM.open(
            try AES.GCM.SealedBox(combined: sealed.box), using: sealingKey,
            authenticating: Array("secret:\(context)".utf8))
        return String(decoding: plain, as: UTF8.self)
    }

    /// Seals a link-signing key for storage in the database.
    public func sealSigningKey(_ key: SymmetricKey, id: UInt32) throws -> SealedIdentity {
        let box = try key.withUnsafeBytes {
            try AES.GCM.seal(Data($0), using: linkKeySealingKey, authenticating: Array("link-key-\(id)".utf8))
        }
        guard let combined = box.combined else { throw VaultError.badKey("AES-GCM produced no combined box") }
        return SealedIdentity(keyId: keyId, box: [UInt8](combined))
    }

    public func openSigningKey(_ sealed: SealedIdentity, id: UInt32) throws -> SymmetricKey {
        let box = try AES.GCM.SealedBox(combined: sealed.box)
        return SymmetricKey(data: try AES.GCM.open(box, using: linkKeySealingKey, authenticating: Array("link-key-\(id)".utf8)))
    }
}

public enum VaultError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingKey
    case badKey(String)

    public var description: String {
        switch self {
        case .missingKey:
            return
                "SVAR_VAULT_KEY is not set (base64 of 32 random bytes; or SVAR_VAULT_KEY_FILE naming a file that holds it). Create "
                + "one with: openssl rand -base64 32"
        case .badKey(let reason): return reason
        }
    }
}
