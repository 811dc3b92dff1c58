import Crypto
import Foundation
import SvarDomain
import SvarStore

/// Signs patient links with the newest signing key and verifies them with any key still on record.
///
/// Keys are generated on first start and stored sealed under a key derived from `SVAR_VAULT_KEY`, so no
/// further secret needs configuring. Old keys keep verifying until their links expire.
public struct LinkIssuer: Sendable {
    let store: any Store
    let keys: [UInt32: SymmetricKey]
    let newestKeyId: UInt32
    let publicURL: String

    /// Loads the signing keys, creating the first one if there is none.
    public static func load(store: any Store, vault: IdentityVault, publicURL: String, now: Date) async throws -> LinkIssuer {
        var stored = try await store.signingKeys()
        if stored.isEmpty {
            try await addKey(store: store, vault: vault, id: 1, now: now)
            stored = try await store.signingKeys()
        }
        var keys: [UInt32: SymmetricKey] = [:]
        for key in stored where key.retiredAt == nil {
            do {
                keys[key.id] = try vault.openSigningKey(key.sealed, id: key.id)
            } catch {
                throw VaultError.badKey(
                    "SVAR_VAULT_KEY does not open this database's link-signing keys: is it the key this database was created with?")
            }
        }
        return LinkIssuer(store: store, keys: keys, newestKeyId: keys.keys.max() ?? 1, publicURL: publicURL)
    }

    /// Adds a new newest key (`svar keys rotate`); returns its id.
    @discardableResult
    public static func rotate(store: any Store, vault: IdentityVault, now: Date) async throws -> UInt32 {
        let next = (try await store.signingKeys().map(\.id).max() ?? 0) + 1
        try await addKey(store: store, vault: vault, id: next, now: now)
        return next
    }

    /// Retires a key (`svar keys retire`): links signed with it stop opening once the service restarts. The
    /// newest key signs new links and cannot be retired; rotate first.
    public static func retire(store: any Store, id: UInt32, actor: String, now: Date) async throws {
        let live = try await store.signingKeys().filter { $0.retiredAt == nil }
        guard live.contains(where: { $0.id == id }) else { throw StoreError.notFound(what: "signing key in use", id: String(id)) }
        guard id != live.map(\.id).max() else {
            throw StoreError.conflict(field: "KEYID", reason: "key \(id) is the newest and signs new links: run svar keys rotate first")
        }
        try await store.retireSigningKey(id: id, actor: actor, at: now)
    }

    static func addKey(store: any Store, vault: IdentityVault, id: UInt32, now: Date) async throws {
        let key = SymmetricKey(size: .bits256)
        try await store.addSigningKey(StoredSigningKey(id: id, createdAt: now, sealed: try vault.sealSigningKey(key, id: id)))
    }

    /// A fresh link to an open invitation, valid until its window closes; the store records only the nonce hash.
    public func issue(invitationId: String, actor: String, now: Date) async throws -> (url: String, expiresAt: Date) {
        guard let invitation = try await store.invitation(invitationId), let uuid = UUID(uuidString: invitationId) else {
            throw StoreError.notFound(what: "invitation", id: invitationId)
        }
        guard invitation.closesAt > now else {
            throw StoreError.conflict(field: "invitation", reason: "the answer window closed at \(invitation.closesAt)")
        }
        guard let key = keys[newestKeyId] else { throw StoreError.notFound(what: "signing key", id: String(newestKeyId)) }
        let token = LinkToken.issue(keyId: newestKeyId, invitationId: uuid, expiresAt: invitation.closesAt)
        try await store.addLink(invitationId: invitationId, nonceHash: token.nonceHash, expiresAt: token.expiresAt, actor: actor, at: now)
        return ("\(publicURL)/a/\(token.encoded(with: key))", token.expiresAt)
    }

    public func verify(_ token: String, now: Date) throws(LinkTokenError) -> LinkToken {
        try LinkToken.verify(token, now: now) { keys[$0] }
    }
}

extension LinkIssuer {
    /// A short-lived proof that this browser passed the second factor for `invitationId` (kept in a cookie).
    public func factorProof(invitationId: String, until: Date) -> String {
        proof(for: "factor", invitationId: invitationId, until: until)
    }

    public func verifyFactorProof(_ proof: String, invitationId: String, now: Date) -> Bool {
        verify(proof, for: "factor", invitationId: invitationId, now: now)
    }

    /// A cookie-sized proof signed for one `purpose`: key id, expiry and the MAC of "purpose:invitation:expiry".
    /// The purpose is inside the signed text, so a proof made for one purpose never passes for another.
    func proof(for purpose: String, invitationId: String, until: Date) -> String {
        let expiry = Int64(until.timeIntervalSince1970)
        let body = Array("\(purpose):\(invitationId):\(expiry)".utf8)
        let mac = keys[newestKeyId].map { Array(HMAC<SHA256>.authenticationCode(for: body, using: $0)) } ?? []
        return Base64URL.encode(
            withUnsafeBytes(of: newestKeyId.bigEndian) { Array($0) } + withUnsafeBytes(of: expiry.bigEndian) { Array($0) } + mac)
    }

    func verify(_ proof: String, for purpose: String, invitationId: String, now: Date) -> Bool {
        guard let bytes = Base64URL.decode(proof), bytes.count == 4 + 8 + 32 else { return false }
        let keyId = bytes[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let expiry = Int64(bitPattern: bytes[4..<12].reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        guard let key = keys[keyId], expiry > Int64(now.timeIntervalSince1970) else { return false }
        let body = Array("\(purpose):\(invitationId):\(expiry)".utf8)
        return HMAC<SHA256>.isValidAuthenticationCode(Array(bytes[12...]), authenticating: body, using: key)
    }
}
