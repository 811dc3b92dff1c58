import Crypto
import Foundation
import SvarDomain
import SvarRegistry

/// What every engine of the local registry store must do alike, kept in one place so the engines cannot drift:
/// how an identity number is sealed in the registry's own vault, and the words of its answers and erasure reports
/// (the forwarding pass and the deletion report show them as they are).
public enum RegistryStoreRules {
    /// Seals an identity number under the store's key (`IdentityVault.registryStoreKey`), bound to its pseudonym:
    /// a sealed entry moved to another pseudonym does not open.
    public static func seal(_ number: String, pseudonym: String, key: SymmetricKey) throws -> [UInt8] {
        let box = try AES.GCM.seal(Array(number.utf8), using: key, authenticating: Array(pseudonym.utf8))
        guard let combined = box.combined else { throw VaultError.badKey("AES-GCM produced no combined box") }
        return [UInt8](combined)
    }

    /// Opens what `seal` made for this pseudonym.
    public static func open(_ sealed: Data, pseudonym: String, key: SymmetricKey) throws -> String {
        let plain = try AES.GCM.open(try AES.GCM.SealedBox(combined: sealed), using: key, authenticating: Array(pseudonym.utf8))
        return String(decoding: plain, as: UTF8.self)
    }

    /// A submission for a pseudonym erased earlier: refused for good, so it goes to the dead-letter list.
    public static let erasedPatient = ForwardOutcome.permanent(reason: "the registry erased this patient after a deletion request")

    /// A second submission of a response the store holds (a retry, or a restore of Svar's database).
    public static func alreadyHeld(_ responseId: String) -> ForwardOutcome {
        .accepted(detail: "already held: response \(responseId)")
    }

    public static func stored(_ response: ForwardedResponse) -> ForwardOutcome {
        .accepted(detail: "stored: response \(response.responseId) with \(response.scores.count) score(s)")
    }

    /// A store that cannot be written now (disk full, locked, connection lost) is a reason to wait, not to give up.
    /// Only the error's type is named: its text may hold a connection string.
    public static func unavailable(_ error: any Error) -> ForwardOutcome {
        .transient(reason: "local registry store: \(type(of: error))", retryAfter: nil)
    }

    /// The erased lines of a report: results (with their scores) and sealed identities removed.
    public static func erased(results: Int, identities: Int) -> [String] {
        ["local registry store: \(results) result(s) with their scores", "local registry store: identity (\(identities) sealed entry)"]
    }

    /// The kept line for an export that already held the patient: used data stays (§ 3-3).
    public static func keptExport(id: String, format: String, at: Date) -> String {
        "export \(id) (\(format), \(OsloTime.iso8601(at))) already included this patient's results: used data, kept (§ 3-3)"
    }
}
