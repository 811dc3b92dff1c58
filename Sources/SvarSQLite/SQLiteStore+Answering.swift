import Foundation
import GRDB
import SvarDomain
import SvarStore

extension SQLiteStore {
    public func lookUpLink(invitationId: String, nonceHash: [UInt8]) async throws -> LinkLookup? {
        let found = try await link(invitationId: invitationId, nonceHash: nonceHash)
        if found?.invitation.state == .completed {
            // A completion is read before its group's WAL flush may have finished; the page that says "your answers
            // are in" waits for it, as the submission's own answer does.
            try await submissions.flushed()
        }
        return found
    }

    private func link(invitationId: String, nonceHash: [UInt8]) async throws -> LinkLookup? {
        // One statement, so it reads one snapshot without the BEGIN and COMMIT that `read` wraps around it (every page
        // view comes here).
        try await db.unsafeRead { db in
            // The link, its invitation, the patient's language and a row per draft (if any). The steps shown and
            // saved are gathered once, not once per draft row as correlated subqueries did.
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT i.id, i.patient_id, i.instruments, i.state, i.closes_at, p.language, d.instrument AS draft, d.answers,
                            v.shown, v.saved
                        FROM invitation_links l JOIN invitations i ON i.id = l.invitation_id JOIN patients p ON p.id = i.patient_id
                            CROSS JOIN (
                                SELECT group_concat(step) AS shown,
                                    group_concat(CASE WHEN first_saved_at IS NOT NULL THEN step END) AS saved
                                FROM step_views WHERE invitation_id = ?2) v
                            LEFT JOIN answer_drafts d ON d.invitation_id = i.id
                        WHERE l.nonce_hash = ?1 AND l.invitation_id = ?2
                        """), arguments: [Data(nonceHash), invitationId])
            guard let first = rows.first else { return nil }
            let instruments: String = first["instruments"]
            let invitation = LinkedInvitation(
                id: first["id"], patientId: first["patient_id"], instruments: instruments.split(separator: ",").map(String.init),
                state: try first.strict("state", in: "invitations"), closesAt: Date(seconds: first["closes_at"]))
            var drafts: [String: String] = [:]
            for row in rows {
                if let instrument: String = row["draft"] { drafts[instrument] = row["answers"] }
            }
            return LinkLookup(
                invitation: invitation, language: first["language"], drafts: drafts, stepsShown: stepNumbers(first["shown"]),
                stepsSaved: stepNumbers(first["saved"]))
        }
    }

    public func recordStepView(invitationId: String, step: Int, saved: Bool, at: Date) async throws {
        try await db.write { db in
            try db.cachedStatement(
                sql: """
                    INSERT INTO step_views (invitation_id, step, first_shown_at, first_saved_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (invitation_id, step) DO UPDATE SET first_saved_at = COALESCE(first_saved_at, excluded.first_saved_at)
                    """
            ).execute(arguments: [invitationId, step, at.seconds, saved ? at.seconds : nil])
        }
    }

    public func stepViews() async throws -> [StepView] {
        try await db.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT v.invitation_id, c.unit, i.milestone, i.instruments, i.state, v.step, v.first_shown_at, v.first_saved_at
                    FROM step_views v JOIN invitations i ON i.id = v.invitation_id JOIN courses c ON c.id = i.course_id
                        JOIN patients p ON p.id = i.patient_id
                    WHERE p.reserved_at IS NULL AND NOT EXISTS (SELECT 1 FROM deletion_requests d WHERE d.patient_id = p.id)
                    ORDER BY i.opens_at, v.invitation_id, v.step
                    """
            ).map { row in
                let instruments: String = row["instruments"]
                return StepView(
                    invitationId: row["invitation_id"], unit: row["unit"], milestone: row["milestone"],
                    instruments: instruments.split(separator: ",").map(String.init), state: row["state"], step: row["step"],
                    firstShown: Date(seconds: row["first_shown_at"]),
                    firstSaved: (row["first_saved_at"] as Int64?).map { Date(seconds: $0) })
            }
        }
    }

    public func markOpened(invitationId: String, at: Date) async throws {
        try await db.write { db in
            let state = try Self.invitationState(db, invitationId)
            guard state != .opened, state.canMove(to: .opened) else { return }
            try Self.transition(db, invitationId: invitationId, to: .opened, cause: "the patient opened the link", actor: "patient", at: at)
        }
    }

    public func saveDraft(invitationId: String, instrument: String, answersJSON: String, language: String, at: Date) async throws {
        try await db.write { db in
            let state = try Self.invitationState(db, invitationId)
            guard !state.isTerminal else { throw StoreError.conflict(field: "invitation", reason: "the invitation is \(state.rawValue)") }
            try db.cachedStatement(
                sql: """
                    INSERT INTO answer_drafts (invitation_id, instrument, answers, language, updated_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (invitation_id, instrument) DO UPDATE SET answers = excluded.answers, language = excluded.language,
                        updated_at = excluded.updated_at
                    """
            ).execute(arguments: [invitationId, instrument, answersJSON, language, at.seconds])
        }
    }

    public func submit(invitationId: String, responses: [SubmittedResponse], respondent: String, language: String, at: Date) async throws {
        // Grouped with the submissions arriving at the same time: one transaction, one fsync, a savepoint each.
        try await submissions.write { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT state, patient_id FROM invitations WHERE id = ?"), arguments: [invitationId])
            else {
                throw StoreError.notFound(what: "invitation", id: invitationId)
            }
            let state: InvitationState = try row.strict("state", in: "invitations")
            guard !state.isTerminal else {
                throw StoreError.conflict(field: "invitation", reason: "the invitation is already \(state.rawValue)")
            }
            let patientId: String = row["patient_id"]
            let ids = responses.map { _ in RecordId.make() }
            // The forwards to the registry, queued in the same transaction: nothing answered is left behind.
            try Self.enqueue(
                db,
                ids.map {
                    QueuedMessage(
                        kind: .forward, patientId: patientId, invitationId: invitationId, key: "forward:\($0)",
                        payload: OutboxPayload(response: $0), responseId: $0)
                }, at: at)
            try Self.insertResponses(
                db, responses, ids: ids, invitationId: invitationId, respondent: respondent, language: language, at: at)
            try Self.transition(
                db, invitationId: invitationId, from: state, to: .completed, cause: "the patient submitted the answers", actor: respondent,
                at: at)
            try db.cachedStatement(sql: "DELETE FROM answer_drafts WHERE invitation_id = ?").execute(arguments: [invitationId])
        }
    }

    /// A submission's responses, their scores and safety flags: a statement per table, whatever the count of rows.
    private static func insertResponses(
        _ db: Database, _ responses: [SubmittedResponse], ids: [String], invitationId: String, respondent: String, language: String,
        at: Date
    ) throws {
        guard !responses.isEmpty else { return }
        let scoreCount = responses.reduce(0) { $0 + $1.scores.count }
        let flagCount = responses.filter { !$0.safetyItems.isEmpty }.count
        var rows = StatementArguments()
        var scores = StatementArguments()
        var flags = StatementArguments()
        for (response, id) in zip(responses, ids) {
            rows += [
                id, invitationId, response.instrument, response.instrumentVersion, response.answersJSON, respondent, language, at.seconds,
            ]
            for score in response.scores {
                scores += [
                    id, score.key, score.number, score.flag, score.itemsAnswered, score.itemsInScale, score.algorithm, score.valueSet,
                ]
            }
            if !response.safetyItems.isEmpty {
                flags += [id, response.safetyItems.joined(separator: ",")]
            }
        }
        try db.cachedStatement(
            sql: """
                INSERT INTO responses (id, invitation_id, instrument, instrument_version, answers, respondent, language, submitted_at)
                VALUES \(Self.rows("(?, ?, ?, ?, ?, ?, ?, ?)", count: responses.count))
                """
        ).execute(arguments: rows)
        if scoreCount > 0 {
            try db.cachedStatement(
                sql: """
                    INSERT INTO scores (response_id, key, number, flag, items_answered, items_in_scale, algorithm, value_set)
                    VALUES \(Self.rows("(?, ?, ?, ?, ?, ?, ?, ?)", count: scoreCount))
                    """
            ).execute(arguments: scores)
        }
        if flagCount > 0 {
            try db.cachedStatement(
                sql: "INSERT INTO safety_flags (response_id, items) VALUES \(Self.rows("(?, ?)", count: flagCount))"
            ).execute(arguments: flags)
        }
    }

    public func responses(invitationId: String) async throws -> [(instrument: String, answersJSON: String, scores: [StoredScore])] {
        try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM responses WHERE invitation_id = ? ORDER BY instrument", arguments: [invitationId]).map
            { row in
                let id: String = row["id"]
                let scores = try Row.fetchAll(db, sql: "SELECT * FROM scores WHERE response_id = ? ORDER BY rowid", arguments: [id]).map {
                    StoredScore(
                        key: $0["key"], number: $0["number"], flag: $0["flag"], itemsAnswered: $0["items_answered"],
                        itemsInScale: $0["items_in_scale"], algorithm: $0["algorithm"], valueSet: $0["value_set"])
                }
                return (row["instrument"], row["answers"], scores)
            }
        }
    }

    // MARK: Second factor

    public func factorState(invitationId: String, now: Date) async throws -> FactorState {
        try await db.read { db in
            let row = try Row.fetchOne(
                db, sql: "SELECT locked_until, voided_at FROM link_factor WHERE invitation_id = ?", arguments: [invitationId])
            return Self.state(row, now: now)
        }
    }

    static func state(_ row: Row?, now: Date) -> FactorState {
        if row?["voided_at"] as Int64? != nil { return .voided }
        if let until = row?["locked_until"] as Int64?, until > now.seconds { return .locked(until: Date(seconds: until)) }
        return .open
    }

    public func attemptFactor(
        invitationId: String, at: Date, policy: FactorPolicy, readsIdentity: Bool,
        check: @Sendable (FactorEvidence) -> Bool
    ) async throws -> FactorState {
        try await db.write { db in
            guard let patient = try String.fetchOne(db, sql: "SELECT patient_id FROM invitations WHERE id = ?", arguments: [invitationId])
            else {
                throw StoreError.notFound(what: "invitation", id: invitationId)
            }
            try db.execute(sql: "INSERT OR IGNORE INTO link_factor (invitation_id) VALUES (?)", arguments: [invitationId])
            let row = try Row.fetchOne(db, sql: "SELECT * FROM link_factor WHERE invitation_id = ?", arguments: [invitationId])
            let current = Self.state(row, now: at)
            guard current == .open else { return current }
            var evidence = FactorEvidence()
            if let hash = row?["code_hash"] as Data?, let expires = row?["code_expires_at"] as Int64?, expires > at.seconds {
                evidence.codeHash = [UInt8](hash)
            }
            if readsIdentity,
                let vault = try Row.fetchOne(
                    db, sql: "SELECT key_id, sealed FROM identity_vault WHERE patient_id = ?", arguments: [patient])
            {
                try Self.audit(
                    db, AuditEntry(at: at, actor: "patient-link", action: "identity.read", subject: patient, detail: "second factor"))
                evidence.sealedIdentity = SealedIdentity(keyId: vault["key_id"], box: [UInt8](vault["sealed"] as Data))
            }
            if check(evidence) {
                // A code is good once; the count starts again.
                try db.execute(
                    sql: "UPDATE link_factor SET failures = 0, code_hash = NULL, code_expires_at = NULL WHERE invitation_id = ?",
                    arguments: [invitationId])
                return .passed
            }
            let failures = (row?["failures"] as Int? ?? 0) + 1
            guard failures >= policy.maximumFailures else {
                try db.execute(sql: "UPDATE link_factor SET failures = ? WHERE invitation_id = ?", arguments: [failures, invitationId])
                return .wrong
            }
            let locks = (row?["locks"] as Int? ?? 0) + 1
            if locks >= policy.locksBeforeVoid {
                try db.execute(
                    sql: "UPDATE link_factor SET failures = 0, locks = ?, voided_at = ? WHERE invitation_id = ?",
                    arguments: [locks, at.seconds, invitationId])
                try Self.audit(
                    db,
                    AuditEntry(
                        at: at, actor: "patient-link", action: "link.voided", subject: patient,
                        detail: "invitation \(invitationId): locked \(locks) times; the clinic issues a new link"))
                return .voided
            }
            let until = at.addingTimeInterval(policy.lock)
            try db.execute(
                sql: "UPDATE link_factor SET failures = 0, locks = ?, locked_until = ? WHERE invitation_id = ?",
                arguments: [locks, until.seconds, invitationId])
            try Self.audit(
                db,
                AuditEntry(
                    at: at, actor: "patient-link", action: "link.locked", subject: patient,
                    detail: "invitation \(invitationId): \(policy.maximumFailures) wrong second-factor answers"))
            return .locked(until: until)
        }
    }

    public func restoreFactor(invitationId: String, actor: String, at: Date) async throws {
        try await db.write { db in
            try db.execute(
                sql: """
                    UPDATE link_factor SET failures = 0, locks = 0, locked_until = NULL, voided_at = NULL
                    WHERE invitation_id = ? AND (voided_at IS NOT NULL OR locks > 0)
                    """, arguments: [invitationId])
            guard db.changesCount == 1,
                let patient = try String.fetchOne(db, sql: "SELECT patient_id FROM invitations WHERE id = ?", arguments: [invitationId])
            else { return }
            try Self.audit(
                db, AuditEntry(at: at, actor: actor, action: "link.restored", subject: patient, detail: "invitation \(invitationId)"))
        }
    }

    public func issueCode(invitationId: String, codeHash: [UInt8], expiresAt: Date, payload: OutboxPayload, at: Date) async throws {
        try await db.write { db in
            guard let patient = try String.fetchOne(db, sql: "SELECT patient_id FROM invitations WHERE id = ?", arguments: [invitationId])
            else {
                throw StoreError.notFound(what: "invitation", id: invitationId)
            }
            try db.execute(
                sql: """
                    INSERT INTO link_factor (invitation_id, code_hash, code_expires_at) VALUES (?, ?, ?)
                    ON CONFLICT (invitation_id) DO UPDATE SET code_hash = excluded.code_hash, code_expires_at = excluded.code_expires_at
                    """, arguments: [invitationId, Data(codeHash), expiresAt.seconds])
            try Self.enqueue(
                db, kind: .code, patientId: patient, invitationId: invitationId, key: "code:\(invitationId):\(at.seconds)",
                payload: payload, at: at)
        }
    }

    public func currentCode(invitationId: String, now: Date) async throws -> [UInt8]? {
        try await db.read { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT code_hash, code_expires_at FROM link_factor WHERE invitation_id = ?", arguments: [invitationId]),
                let hash = row["code_hash"] as Data?, let expires = row["code_expires_at"] as Int64?, expires > now.seconds
            else { return nil }
            return [UInt8](hash)
        }
    }
}
