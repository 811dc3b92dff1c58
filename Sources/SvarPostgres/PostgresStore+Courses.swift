import Foundation
import PostgresNIO
import SvarDomain
import SvarStore

extension PostgresStore {
    public func createCourse(_ course: NewCourse, actor: String, at: Date) async throws {
        try await transaction { tx in
            guard let patient = try await tx.patient(course.patientId, locking: true) else {
                throw StoreError.notFound(what: "patient", id: course.patientId)
            }
            guard patient.deletionRequestedAt == nil else {
                throw StoreError.conflict(field: "patient", reason: "the patient's data were deleted on request; nothing more is recorded")
            }
            guard try await tx.exists("SELECT 1 FROM units WHERE resh = \(course.unit)") else {
                throw StoreError.notFound(what: "unit", id: course.unit)
            }
            try await tx.execute(
                """
                INSERT INTO courses (id, patient_id, unit, type, status, created_at)
                VALUES (\(course.id), \(course.patientId), \(course.unit), \(course.type.rawValue), 'active', \(at.seconds))
                """)
            try await tx.audit(
                AuditEntry(
                    at: at, actor: actor, action: "course.create", subject: course.patientId,
                    detail: "course \(course.id) at unit \(course.unit)"))
        }
    }

    public func course(_ id: String) async throws -> CourseRecord? {
        try await transaction { try await $0.course(id) }
    }

    public func invitation(_ id: String) async throws -> InvitationRecord? {
        try await transaction { try await $0.invitation(id) }
    }

    public func recordEvent(
        courseId: String, event: PathwayEvent, restartingNudges: [String], at: Date,
        decide: @Sendable (CourseRecord, PatientRecord) throws -> [ScheduleProtocol.Plan]
    ) async throws -> CourseRecord {
        try await transaction { tx in
            // The course row is locked first: events of one course are recorded one after the other.
            guard try await tx.exists("SELECT 1 FROM courses WHERE id = \(courseId) FOR UPDATE"),
                let course = try await tx.course(courseId)
            else { throw StoreError.notFound(what: "course", id: courseId) }
            guard let patient = try await tx.patient(course.patientId) else {
                throw StoreError.notFound(what: "patient", id: course.patientId)
            }
            guard try await tx.exists("SELECT 1 FROM units WHERE resh = \(event.unit)") else {
                throw StoreError.notFound(what: "unit", id: event.unit)
            }
            let plans = try decide(course, patient)
            try await tx.execute(
                """
                INSERT INTO pathway_events (id, course_id, type, date, unit, npr_code, recorded_by, recorded_at, seq)
                VALUES (\(event.id), \(courseId), \(event.type.rawValue), \(event.date.description), \(event.unit), \(event.nprCode),
                        \(event.recordedBy), \(at.seconds), \(Int64(course.events.count + 1)))
                """)
            switch event.type {
            case .transfer:
                try await tx.execute("UPDATE courses SET unit = \(event.unit) WHERE id = \(courseId)")
                // The referral carries the sending unit's record of the patient, unless the receiving unit has its own.
                try await tx.execute(
                    """
                    INSERT INTO unit_identities (patient_id, unit, key_id, sealed, updated_at)
                    SELECT patient_id, \(event.unit), key_id, sealed, \(at.seconds) FROM unit_identities
                    WHERE patient_id = \(course.patientId) AND unit = \(course.unit)
                    ON CONFLICT DO NOTHING
                    """)
            case .end, .breakOff:
                try await tx.execute("UPDATE courses SET status = \(event.type == .end ? "ended" : "brokenOff") WHERE id = \(courseId)")
                // A course that is over is nudged about nothing.
                try await tx.execute("DELETE FROM nudge_counts WHERE course_id = \(courseId)")
                try await tx.execute(
                    "UPDATE clinician_nudges SET resolved_at = \(at.seconds) WHERE course_id = \(courseId) AND resolved_at IS NULL")
            default:
                break
            }
            if course.status == .active, ![.end, .breakOff].contains(event.type) {
                for milestone in restartingNudges {
                    // What the nudge asked for has come: it is done, and the count starts again.
                    try await tx.execute(
                        """
                        INSERT INTO nudge_counts (course_id, milestone, since) VALUES (\(courseId), \(milestone),
                            \(event.date.description))
                        ON CONFLICT (course_id, milestone) DO UPDATE SET since = GREATEST(nudge_counts.since, excluded.since)
                        """)
                    // A back-dated event may restart a count behind the watermark: the next pass looks again from there.
                    try await tx.execute(
                        """
                        UPDATE nudge_watermarks SET raised_through = \(event.date.adding(days: -1).description)
                        WHERE milestone = \(milestone) AND raised_through >= \(event.date.description)
                        """)
                    try await tx.execute(
                        """
                        UPDATE clinician_nudges SET resolved_at = \(at.seconds)
                        WHERE course_id = \(courseId) AND milestone = \(milestone) AND resolved_at IS NULL
                        """)
                }
            }
            if !patient.isReserved {
                for plan in plans {
                    try await tx.insertInvitation(plan: plan, course: course, actor: event.recordedBy, at: at)
                }
            }
            try await tx.audit(
                AuditEntry(
                    at: at, actor: event.recordedBy, action: "course.event", subject: course.patientId,
                    detail: "\(event.type.rawValue) \(event.date) on course \(courseId)"))
            guard let updated = try await tx.course(courseId) else { throw StoreError.notFound(what: "course", id: courseId) }
            return updated
        }
    }
}

extension Transaction {
    func course(_ id: String) async throws -> CourseRecord? {
        guard let row = try await row("SELECT * FROM courses WHERE id = \(id)") else { return nil }
        let events = try await rows("SELECT * FROM pathway_events WHERE course_id = \(id) ORDER BY seq").map {
            PathwayEvent(
                id: try $0.decode("id"), type: try $0.strict("type", in: "pathway_events"),
                date: try $0.date("date", in: "pathway_events"), unit: try $0.decode("unit"),
                nprCode: try $0.decode("npr_code"), recordedBy: try $0.decode("recorded_by"))
        }
        var invitations: [InvitationRecord] = []
        for invitationId in try await rows("SELECT id FROM invitations WHERE course_id = \(id) ORDER BY opens_at, milestone") {
            if let invitation = try await invitation(try invitationId.decode("id")) { invitations.append(invitation) }
        }
        return CourseRecord(
            id: try row.decode("id"), patientId: try row.decode("patient_id"), unit: try row.decode("unit"),
            type: try row.strict("type", in: "courses"), status: try row.strict("status", in: "courses"),
            createdAt: try row.date("created_at"), events: events, invitations: invitations
        )
    }

    func invitation(_ id: String) async throws -> InvitationRecord? {
        guard let row = try await row("SELECT * FROM invitations WHERE id = \(id)") else { return nil }
        let history = try await rows("SELECT * FROM invitation_history WHERE invitation_id = \(id) ORDER BY id").map {
            InvitationChange(
                at: try $0.date("at"), from: try $0.strictIfPresent("from_state", in: "invitation_history"),
                to: try $0.strict("to_state", in: "invitation_history"), cause: try $0.decode("cause"),
                actor: try $0.decode("actor"))
        }
        let state: InvitationState = try row.strict("state", in: "invitations")
        let reminders = try await rows("SELECT * FROM reminders WHERE invitation_id = \(id) ORDER BY seq").map {
            let stored: ReminderRecord.State = try $0.strict("state", in: "reminders")
            // An ended invitation's pending reminder will never go out (see `transition`).
            return ReminderRecord(
                sequence: try $0.decode("seq", as: Int.self), dueAt: try $0.date("due_at"),
                state: state.isTerminal && stored == .pending ? .cancelled : stored)
        }
        let instruments: String = try row.decode("instruments")
        return InvitationRecord(
            id: try row.decode("id"), courseId: try row.decode("course_id"), patientId: try row.decode("patient_id"),
            milestone: try row.decode("milestone"), instruments: instruments.split(separator: ",").map(String.init),
            triggerEventId: try row.decode("trigger_event_id"), dueDate: try row.date("due_date", in: "invitations"),
            state: state, remindersSent: try row.decode("reminders_sent"),
            cancelReason: try row.strictIfPresent("cancel_reason", in: "invitations"),
            opensAt: try row.date("opens_at"), closesAt: try row.date("closes_at"), history: history, reminders: reminders
        )
    }

    func insertInvitation(plan: ScheduleProtocol.Plan, course: CourseRecord, actor: String, at: Date) async throws {
        let id = RecordId.random()  // it travels inside the patient's link
        let inserted = try await count(
            """
            INSERT INTO invitations (id, course_id, patient_id, milestone, instruments, trigger_event_id, due_date,
                state, opens_at, closes_at, created_at, updated_at)
            VALUES (\(id), \(course.id), \(course.patientId), \(plan.milestone), \(plan.instruments.joined(separator: ",")),
                \(plan.triggerEventId), \(plan.dueDate.description), 'scheduled', \(plan.opensAt.seconds), \(plan.closesAt.seconds),
                \(at.seconds), \(at.seconds))
            ON CONFLICT DO NOTHING RETURNING 1
            """)
        guard inserted == 1 else { return }
        try await execute(
            """
            INSERT INTO invitation_history (invitation_id, at, from_state, to_state, cause, actor)
            VALUES (\(id), \(at.seconds), NULL, 'scheduled', \("scheduled by the \(plan.milestone) milestone"), \(actor))
            """)
        for (i, due) in plan.reminders.enumerated() {
            try await execute(
                "INSERT INTO reminders (invitation_id, seq, due_at, state) VALUES (\(id), \(Int64(i + 1)), \(due.seconds), 'pending')")
        }
    }

    /// Moves one invitation to `next` if the state machine allows it, writing the history row; the row is locked
    /// first, so two instances cannot both move it. Ending states also cancel the queued messages to the patient;
    /// pending reminders are left as they are, read as cancelled and marked so when due (as on SQLite).
    @discardableResult
    func transition(
        invitationId: String, to next: InvitationState, cause: String, actor: String, at: Date,
        cancelReason: CancelReason? = nil
    ) async throws -> InvitationState {
        guard let row = try await self.row("SELECT state FROM invitations WHERE id = \(invitationId) FOR UPDATE") else {
            throw StoreError.notFound(what: "invitation", id: invitationId)
        }
        let current: InvitationState = try row.strict("state", in: "invitations")
        do {
            _ = try current.moved(to: next)
        } catch {
            throw StoreError.illegalTransition(error.description)
        }
        try await execute(
            """
            UPDATE invitations SET state = \(next.rawValue), cancel_reason = COALESCE(\(cancelReason?.rawValue), cancel_reason),
                updated_at = \(at.seconds), reminders_sent = reminders_sent + \(Int64(next == .reminded ? 1 : 0)) WHERE id = \(invitationId)
            """)
        try await execute(
            """
            INSERT INTO invitation_history (invitation_id, at, from_state, to_state, cause, actor)
            VALUES (\(invitationId), \(at.seconds), \(current.rawValue), \(next.rawValue), \(cause), \(actor))
            """)
        if next.isTerminal {
            // Messages to the patient stop; the forward of a completed invitation's answers must not.
            try await execute(
                """
                UPDATE outbox SET state = 'cancelled', last_error = \("invitation \(next.rawValue)"), updated_at = \(at.seconds)
                WHERE invitation_id = \(invitationId) AND state = 'queued' AND kind IN ('invitation', 'reminder', 'code')
                """)
        }
        return current
    }
}
