import Foundation
import PostgresNIO
import SvarDomain
import SvarStore

extension PostgresStore {
    public func lookUpLink(invitationId: String, nonceHash: [UInt8]) async throws -> LinkLookup? {
        try await transaction { tx in
            let rows = try await tx.rows(try WorkerQuery.linkLookup(invitationId: invitationId, nonceHash: nonceHash))
            guard let first = rows.first else { return nil }
            let invitation = LinkedInvitation(
                id: try first.decode("id"), patientId: try first.decode("patient_id"),
                instruments: try first.decode("instruments", as: String.self).split(separator: ",").map(String.init),
                state: try first.strict("state", in: "invitations"), closesAt: try first.date("closes_at"))
            var drafts: [String: String] = [:]
            for row in rows {
                if let instrument = try row.decode("draft", as: String?.self) {
                    drafts[instrument] = try row.decode("answers", as: String.self)
                }
            }
            return LinkLookup(
                invitation: invitation, language: try first.decode("language"), drafts: drafts,
                stepsShown: stepNumbers(try first.decode("shown", as: String?.self)),
                stepsSaved: stepNumbers(try first.decode("saved", as: String?.self)))
        }
    }

    public func recordStepView(invitationId: String, step: Int, saved: Bool, at: Date) async throws {
        try await transaction { tx in
            let savedAt: Int64? = saved ? at.seconds : nil
            try await tx.execute(
                """
                INSERT INTO step_views (invitation_id, step, first_shown_at, first_saved_at)
                VALUES (\(invitationId), \(step), \(at.seconds), \(savedAt))
                ON CONFLICT (invitation_id, step)
                    DO UPDATE SET first_saved_at = COALESCE(step_views.first_saved_at, excluded.first_saved_at)
                """)
        }
    }

    public func stepViews() async throws -> [StepView] {
        try await transaction { tx in
            try await tx.rows(
                """
                SELECT v.invitation_id, c.unit, i.milestone, i.instruments, i.state, v.step, v.first_shown_at, v.first_saved_at
                FROM step_views v JOIN invitations i ON i.id = v.invitation_id JOIN courses c ON c.id = i.course_id
                    JOIN patients p ON p.id = i.patient_id
                WHERE p.reserved_at IS NULL AND NOT EXISTS (SELECT 1 FROM deletion_requests d WHERE d.patient_id = p.id)
                ORDER BY i.opens_at, v.invitation_id, v.step
                """
            ).map { row in
                StepView(
                    invitationId: try row.decode("invitation_id"), unit: try row.decode("unit"), milestone: try row.decode("milestone"),
                    instruments: try row.decode("instruments", as: String.self).split(separator: ",").map(String.init),
                    state: try row.decode("state"), step: Int(try row.decode("step", as: Int32.self)),
                    firstShown: try row.date("first_shown_at"),
                    firstSaved: try row.decode("first_saved_at", as: Int64?.self).map { Date(seconds: $0) })
            }
        }
    }

    public func markOpened(invitationId: String, at: Date) async throws {
        try await transaction { tx in
            let state = try await tx.lockedState(of: invitationId)
            guard state != .opened, state.canMove(to: .opened) else { return }
            try await tx.transition(invitationId: invitationId, to: .opened, cause: "the patient opened the link", actor: "patient", at: at)
        }
    }

    public func saveDraft(invitationId: String, instrument: String, answersJSON: String, language: String, at: Date) async throws {
        try await transaction { tx in
            let state = try await tx.lockedState(of: invitationId)
            guard !state.isTerminal else { throw StoreError.conflict(field: "invitation", reason: "the invitation is \(state.rawValue)") }
            try await tx.execute(
                """
                INSERT INTO answer_drafts (invitation_id, instrument, answers, language, updated_at)
                VALUES (\(invitationId), \(instrument), \(answersJSON), \(language), \(at.seconds))
                ON CONFLICT (invitation_id, instrument) DO UPDATE SET answers = excluded.answers, language = excluded.language,
                    updated_at = excluded.updated_at
                """)
        }
    }

    public func submit(invitationId: String, responses: [SubmittedResponse], respondent: String, language: String, at: Date) async throws {
        try await transaction { tx in
            // Locked: a second submission running at the same time waits, then finds the invitation completed.
            guard let row = try await tx.row("SELECT state, patient_id FROM invitations WHERE id = \(invitationId) FOR UPDATE") else {
                throw StoreError.notFound(what: "invitation", id: invitationId)
            }
            let state: InvitationState = try row.strict("state", in: "invitations")
            guard !state.isTerminal else {
                throw StoreError.conflict(field: "invitation", reason: "the invitation is already \(state.rawValue)")
            }
            let patientId: String = try row.decode("patient_id")
            for response in responses {
                let responseId = RecordId.make()
                // The forward to the registry, queued in the same transaction: nothing answered is left behind.
                try await tx.enqueue(
                    kind: .forward, patientId: patientId, invitationId: invitationId, key: "forward:\(responseId)",
                    payload: OutboxPayload(response: responseId), at: at, responseId: responseId)
                try await tx.execute(
                    """
                    INSERT INTO responses (id, invitation_id, instrument, instrument_version, answers, respondent, language, submitted_at)
                    VALUES (\(responseId), \(invitationId), \(response.instrument), \(response.instrumentVersion), \(response.answersJSON),
                            \(respondent), \(language), \(at.seconds))
                    """)
                for score in response.scores {
                    try await tx.execute(
                        """
                        INSERT INTO scores (response_id, key, number, flag, items_answered, items_in_scale, algorithm, value_set)
                        VALUES (\(responseId), \(score.key), \(score.number), \(score.flag), \(score.itemsAnswered.map(Int64.init)),
                                \(score.itemsInScale.map(Int64.init)), \(score.algorithm), \(score.valueSet))
                        """)
                }
                if !response.safetyItems.isEmpty {
                    let items = response.safetyItems.joined(separator: ",")
                    try await tx.execute("INSERT INTO safety_flags (response_id, items) VALUES (\(responseId), \(items))")
                }
            }
            try await tx.transition(
                invitationId: invitationId, to: .completed, cause: "the patient submitted the answers", actor: respondent, at: at)
            try await tx.execute("DELETE FROM answer_drafts WHERE invitation_id = \(invitationId)")
        }
    }

    public func responses(invitationId: String) async throws -> [(instrument: String, answersJSON: String, scores: [StoredScore])] {
        let found = try await transaction { tx in
            var out: [Answered] = []
            for row in try await tx.rows("SELECT * FROM responses WHERE invitation_id = \(invitationId) ORDER BY instrument") {
                out.append(
                    Answered(
                        instrument: try row.decode("instrument"), answersJSON: try row.decode("answers"),
                        scores: try await tx.scores(responseId: try row.decode("id"))))
            }
            return out
        }
        return found.map { ($0.instrument, $0.answersJSON, $0.scores) }
    }

    /// One stored response, carried out of a transaction (tuples with labels are not `Sendable` results here).
    struct Answered: Sendable {
        var instrument: String
        var answersJSON: String
        var scores: [StoredScore]
    }
}

extension Transaction {
    /// The invitation's state, with its row locked until the transaction ends.
    func lockedState(of invitationId: String) async throws -> InvitationState {
        guard let row = try await self.row("SELECT state FROM invitations WHERE id = \(invitationId) FOR UPDATE") else {
            throw StoreError.notFound(what: "invitation", id: invitationId)
        }
        return try row.strict("state", in: "invitations")
    }

    func scores(responseId: String) async throws -> [StoredScore] {
        try await rows("SELECT * FROM scores WHERE response_id = \(responseId) ORDER BY seq").map {
            StoredScore(
                key: try $0.decode("key"), number: try $0.decode("number"), flag: try $0.decode("flag"),
                itemsAnswered: try $0.decode("items_answered", as: Int?.self), itemsInScale: try $0.decode("items_in_scale", as: Int?.self),
                algorithm: try $0.decode("algorithm"), valueSet: try $0.decode("value_set"))
        }
    }

    func enqueue(
        kind: OutboxKind, patientId: String, invitationId: String?, key: String, payload: OutboxPayload, at: Date,
        responseId: String? = nil
    ) async throws {
        let text = try payload.json()
        try await execute(
            """
            INSERT INTO outbox (id, kind, patient_id, invitation_id, idempotency_key, payload, state, attempts, next_attempt_at,
                                created_at, updated_at, response_id)
            VALUES (\(RecordId.make()), \(kind.rawValue), \(patientId), \(invitationId), \(key), \(text), 'queued', 0,
                    \(at.seconds), \(at.seconds), \(at.seconds), \(responseId))
            ON CONFLICT DO NOTHING
            """)
    }

    func audit(_ entry: AuditEntry) async throws {
        try await execute(
            """
            INSERT INTO audit_log (at, actor, action, subject, detail)
            VALUES (\(entry.at.seconds), \(entry.actor), \(entry.action), \(entry.subject), \(entry.detail))
            """)
    }
}
