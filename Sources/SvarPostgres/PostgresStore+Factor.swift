import Foundation
import PostgresNIO
import SvarDomain
import SvarStore

/// The patient's second factor: attempts are counted under a row lock, so parallel guesses on several instances
/// cannot pass the lock.
extension PostgresStore {
    public func factorState(invitationId: String, now: Date) async throws -> FactorState {
        try await transaction { tx in
            try Self.state(
                try await tx.row("SELECT locked_until, voided_at FROM link_factor WHERE invitation_id = \(invitationId)"), now: now)
        }
    }

    static func state(_ row: PostgresRandomAccessRow?, now: Date) throws -> FactorState {
        guard let row else { return .open }
        if try row.decode("voided_at", as: Int64?.self) != nil { return .voided }
        if let until = try row.decode("locked_until", as: Int64?.self), until > now.seconds { return .locked(until: Date(seconds: until)) }
        return .open
    }

    public func attemptFactor(
        invitationId: String, at: Date, policy: FactorPolicy, readsIdentity: Bool,
        check: @Sendable (FactorEvidence) -> Bool
    ) async throws -> FactorState {
        try await transaction { tx in
            guard let patient = try await tx.value("SELECT patient_id FROM invitations WHERE id = \(invitationId)", as: String.self) else {
                throw StoreError.notFound(what: "invitation", id: invitationId)
            }
            try await tx.execute("INSERT INTO link_factor (invitation_id) VALUES (\(invitationId)) ON CONFLICT DO NOTHING")
            let row = try await tx.row("SELECT * FROM link_factor WHERE invitation_id = \(invitationId) FOR UPDATE")
            let current = try Self.state(row, now: at)
            guard current == .open else { return current }
            var evidence = FactorEvidence()
            if let hash = try row?.decode("code_hash", as: Data?.self), let expires = try row?.decode("code_expires_at", as: Int64?.self),
                expires > at.seconds
            {
                evidence.codeHash = [UInt8](hash)
            }
            if readsIdentity, let vault = try await tx.row("SELECT key_id, sealed FROM identity_vault WHERE patient_id = \(patient)") {
                try await tx.audit(
                    AuditEntry(at: at, actor: "patient-link", action: "identity.read", subject: patient, detail: "second factor"))
                evidence.sealedIdentity = try vault.sealed()
            }
            if check(evidence) {
                // A code is good once; the count starts again.
                try await tx.execute(
                    """
                    UPDATE link_factor SET failures = 0, code_hash = NULL, code_expires_at = NULL WHERE invitation_id = \(invitationId)
                    """)
                return .passed
            }
            let failures = (try row?.decode("failures", as: Int64.self) ?? 0) + 1
            guard failures >= Int64(policy.maximumFailures) else {
                try await tx.execute("UPDATE link_factor SET failures = \(failures) WHERE invitation_id = \(invitationId)")
                return .wrong
            }
            let locks = (try row?.decode("locks", as: Int64.self) ?? 0) + 1
            if locks >= Int64(policy.locksBeforeVoid) {
                try await tx.execute(
                    """
                    UPDATE link_factor SET failures = 0, locks = \(locks), voided_at = \(at.seconds) WHERE invitation_id = \(invitationId)
                    """)
                try await tx.audit(
                    AuditEntry(
                        at: at, actor: "patient-link", action: "link.voided", subject: patient,
                        detail: "invitation \(invitationId): locked \(locks) times; the clinic issues a new link"))
                return .voided
            }
            let until = at.addingTimeInterval(policy.lock)
            try await tx.execute(
                """
                UPDATE link_factor SET failures = 0, locks = \(locks), locked_until = \(until.seconds) WHERE invitation_id = \(invitationId)
                """)
            try await tx.audit(
                AuditEntry(
                    at: at, actor: "patient-link", action: "link.locked", subject: patient,
                    detail: "invitation \(invitationId): \(policy.maximumFailures) wrong second-factor answers"))
            return .locked(until: until)
        }
    }

    public func restoreFactor(invitationId: String, actor: String, at: Date) async throws {
        try await transaction { tx in
            let restored = try await tx.count(
                """
                UPDATE link_factor SET failures = 0, locks = 0, locked_until = NULL, voided_at = NULL
                WHERE invitation_id = \(invitationId) AND (voided_at IS NOT NULL OR locks > 0) RETURNING 1
                """)
            guard restored == 1,
                let patient = try await tx.value("SELECT patient_id FROM invitations WHERE id = \(invitationId)", as: String.self)
            else { return }
            try await tx.audit(
                AuditEntry(at: at, actor: actor, action: "link.restored", subject: patient, detail: "invitation \(invitationId)"))
        }
    }

    public func issueCode(invitationId: String, codeHash: [UInt8], expiresAt: Date, payload: OutboxPayload, at: Date) async throws {
        try await transaction { tx in
            guard let patient = try await tx.value("SELECT patient_id FROM invitations WHERE id = \(invitationId)", as: String.self) else {
                throw StoreError.notFound(what: "invitation", id: invitationId)
            }
            try await tx.execute(
                """
                INSERT INTO link_factor (invitation_id, code_hash, code_expires_at) VALUES (\(invitationId), \(Data(codeHash)),
                    \(expiresAt.seconds))
                ON CONFLICT (invitation_id) DO UPDATE SET code_hash = excluded.code_hash, code_expires_at = excluded.code_expires_at
                """)
            try await tx.enqueue(
                kind: .code, patientId: patient, invitationId: invitationId, key: "code:\(invitationId):\(at.seconds)",
                payload: payload, at: at)
        }
    }

    public func currentCode(invitationId: String, now: Date) async throws -> [UInt8]? {
        try await transaction { tx in
            guard let row = try await tx.row("SELECT code_hash, code_expires_at FROM link_factor WHERE invitation_id = \(invitationId)"),
                let hash = try row.decode("code_hash", as: Data?.self), let expires = try row.decode("code_expires_at", as: Int64?.self),
                expires > now.seconds
            else { return nil }
            return [UInt8](hash)
        }
    }
}
