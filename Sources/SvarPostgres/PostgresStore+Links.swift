import Foundation
import PostgresNIO
import SvarDomain
import SvarStore

/// Signing keys, links and the audit log's reading side.
extension PostgresStore {
    public func signingKeys() async throws -> [StoredSigningKey] {
        try await transaction { tx in
            try await tx.rows("SELECT * FROM signing_keys ORDER BY id").map {
                StoredSigningKey(
                    id: UInt32(truncatingIfNeeded: try $0.decode("id", as: Int64.self)), createdAt: try $0.date("created_at"),
                    sealed: try $0.sealed(), retiredAt: try $0.optionalDate("retired_at"))
            }
        }
    }

    public func addSigningKey(_ key: StoredSigningKey) async throws {
        try await transaction { tx in
            try await tx.execute(
                """
                INSERT INTO signing_keys (id, created_at, key_id, sealed)
                VALUES (\(Int64(key.id)), \(key.createdAt.seconds), \(key.sealed.keyId), \(Data(key.sealed.box)))
                """)
        }
    }

    public func retireSigningKey(id: UInt32, actor: String, at: Date) async throws {
        try await transaction { tx in
            let retired = try await tx.count(
                """
                UPDATE signing_keys SET retired_at = \(at.seconds) WHERE id = \(Int64(id)) AND retired_at IS NULL RETURNING 1
                """)
            guard retired == 1 else { throw StoreError.notFound(what: "signing key in use", id: String(id)) }
            try await tx.audit(AuditEntry(at: at, actor: actor, action: "key.retire", subject: "signing key \(id)"))
        }
    }

    public func addLink(invitationId: String, nonceHash: [UInt8], expiresAt: Date, actor: String, at: Date) async throws {
        try await transaction { tx in
            guard let row = try await tx.row("SELECT patient_id, state FROM invitations WHERE id = \(invitationId) FOR UPDATE") else {
                throw StoreError.notFound(what: "invitation", id: invitationId)
            }
            let state: InvitationState = try row.strict("state", in: "invitations")
            guard !state.isTerminal else {
                throw StoreError.conflict(field: "state", reason: "the invitation is \(state.rawValue); no new link can be made")
            }
            try await tx.execute(
                """
                INSERT INTO invitation_links (nonce_hash, invitation_id, expires_at, created_at)
                VALUES (\(Data(nonceHash)), \(invitationId), \(expiresAt.seconds), \(at.seconds))
                """)
            try await tx.audit(
                AuditEntry(
                    at: at, actor: actor, action: "invitation.link", subject: try row.decode("patient_id"),
                    detail: "invitation \(invitationId)"))
        }
    }

    public func auditEntries(subject: String) async throws -> [AuditEntry] {
        try await transaction { tx in
            try await tx.rows("SELECT * FROM audit_log WHERE subject = \(subject) ORDER BY id").map {
                AuditEntry(
                    at: try $0.date("at"), actor: try $0.decode("actor"), action: try $0.decode("action"),
                    subject: try $0.decode("subject"),
                    detail: try $0.decode("detail"))
            }
        }
    }

    /// The payload of an outbox item (what the notifier will send) — for operations and tests.
    public func outboxPayload(id: String) async throws -> String? {
        try await transaction { tx in try await tx.value("SELECT payload FROM outbox WHERE id = \(id)", as: String.self) }
    }

    /// Runs fixed SQL in one transaction — for tests and maintenance only; never with values from a request.
    public func execute(rawSQL sql: String) async throws {
        try await transaction { tx in try await tx.execute(PostgresQuery(unsafeSQL: sql)) }
    }
}
