import Foundation
import GRDB
import SvarDomain
import SvarStore

extension SQLiteStore {
    public func createCourse(_ course: NewCourse, actor: String, at: Date) async throws {
        try await db.write { db in
            guard let patient = try Self.patient(in: db, id: course.patientId) else {
                throw StoreError.notFound(what: "patient", id: course.patientId)
            }
            guard patient.deletionRequestedAt == nil else {
                throw StoreError.conflict(field: "patient", reason: "the patient's data were deleted on request; nothing more is recorded")
            }
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM units WHERE resh = ?", arguments: [course.unit]) == true else {
                throw StoreError.notFound(what: "unit", id: course.unit)
            }
            try db.execute(
                sql: "INSERT INTO courses (id, patient_id, unit, type, status, created_at) VALUES (?, ?, ?, ?, 'active', ?)",
                arguments: [course.id, course.patientId, course.unit, course.type.rawValue, at.seconds])
            try Self.audit(
                db,
                AuditEntry(
                    at: at, actor: actor, action: "course.create", subject: course.patientId,
                    detail: "course \(course.id) at unit \(course.unit)"))
        }
    }

    public func course(_ id: String) async throws -> CourseRecord? {
        try await db.read { try Self.course(in: $0, id: id) }
    }

    static func course(in db: Database, id: String) throws -> CourseRecord? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM courses WHERE id = ?", arguments: [id]) else { return nil }
        let events = try Row.fetchAll(db, sql: "SELECT * FROM pathway_events WHERE course_id = ? ORDER BY seq", arguments: [id]).map {
            PathwayEvent(
                id: $0["id"], type: try $0.strict("type", in: "pathway_events"),
                date: try $0.date("date", in: "pathway_events"), unit: $0["unit"],
                nprCode: $0["npr_code"], recordedBy: $0["recorded_by"])
        }
        let invitationIds = try String.fetchAll(
            db, sql: "SELECT id FROM invitations WHERE course_id = ? ORDER BY opens_at, milestone", arguments: [id])
        return CourseRecord(
            id: row["id"], patientId: row["patient_id"], unit: row["unit"],
            type: try row.strict("type", in: "courses"), status: try row.strict("status", in: "courses"),
            createdAt: Date(seconds: row["created_at"]), events: events,
            invitations: try invitationIds.compactMap { try invitation(in: db, id: $0) }
        )
    }

    public func invitation(_ id: String) async throws -> InvitationRecord? {
        try await db.read { try Self.invitation(in: $0, id: id) }
    }

    /// An invitation's state, read strictly; `notFound` when there is no such invitation.
    static func invitationState(_ db: Database, _ invitationId: String) throws -> InvitationState {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT state FROM invitations WHERE id = ?"), arguments: [invitationId])
        else {
            throw StoreError.notFound(what: "invitation", id: invitationId)
        }
        return try row.strict("state", in: "invitations")
    }

    static func invitation(in db: Database, id: String) throws -> InvitationRecord? {
        // Cached statements: this runs on every patient page view.
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM invitations WHERE id = ?"), arguments: [id]) else {
            return nil
        }
        let history = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM invitation_history WHERE invitation_id = ? ORDER BY id"), arguments: [id]
        ).map {
            InvitationChange(
                at: Date(seconds: $0["at"]), from: try $0.strictIfPresent("from_state", in: "invitation_history"),
                to: try $0.strict("to_state", in: "invitation_history"), cause: $0["cause"], actor: $0["actor"])
        }
        let state: InvitationState = try row.strict("state", in: "invitations")
        let reminders = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM reminders WHERE invitation_id = ? ORDER BY seq"), arguments: [id]
        ).map {
            let stored: ReminderRecord.State = try $0.strict("state", in: "reminders")
            // An ended invitation's pending reminder will never go out (see `transition`).
            return ReminderRecord(
                sequence: $0["seq"], dueAt: Date(seconds: $0["due_at"]), state: state.isTerminal && stored == .pending ? .cancelled : stored
            )
        }
        let instruments: String = row["instruments"]
        return InvitationRecord(
            id: row["id"], courseId: row["course_id"], patientId: row["patient_id"], milestone: row["milestone"],
            instruments: instruments.split(separator: ",").map(String.init), triggerEventId: row["trigger_event_id"],
            dueDate: try row.date("due_date", in: "invitations"),
            state: state, remindersSent: row["reminders_sent"],
            cancelReason: try row.strictIfPresent("cancel_reason", in: "invitations"),
            opensAt: Date(seconds: row["opens_at"]), closesAt: Date(seconds: row["closes_at"]),
            history: history, reminders: reminders
        )
    }

    public func recordEvent(
        courseId: String, event: PathwayEvent, restartingNudges: [String], at: Date,
        decide: @Sendable (CourseRecord, PatientRecord) throws -> [ScheduleProtocol.Plan]
    ) async throws -> CourseRecord {
        try await db.write { db in
            guard let course = try Self.course(in: db, id: courseId) else { throw StoreError.notFound(what: "course", id: courseId) }
            guard let patient = try Self.patient(in: db, id: course.patientId) else {
                throw StoreError.notFound(what: "patient", id: course.patientId)
            }
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM units WHERE resh = ?", arguments: [event.unit]) == true else {
                throw StoreError.notFound(what: "unit", id: event.unit)
            }
            let plans = try decide(course, patient)
            let seq = (course.events.count) + 1
            try db.execute(
                sql: """
                    INSERT INTO pathway_events (id, course_id, type, date, unit, npr_code, recorded_by, recorded_at, seq)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    event.id, courseId, event.type.rawValue, event.date.description, event.unit, event.nprCode,
                    event.recordedBy, at.seconds, seq,
                ])
            switch event.type {
            case .transfer:
                try db.execute(sql: "UPDATE courses SET unit = ? WHERE id = ?", arguments: [event.unit, courseId])
                // The referral carries the sending unit's record of the patient, unless the receiving unit has its own.
                try db.execute(
                    sql: """
                        INSERT OR IGNORE INTO unit_identities (patient_id, unit, key_id, sealed, updated_at)
                        SELECT patient_id, ?, key_id, sealed, ? FROM unit_identities WHERE patient_id = ? AND unit = ?
                        """, arguments: [event.unit, at.seconds, course.patientId, course.unit])
            case .end, .breakOff:
                try db.execute(
                    sql: "UPDATE courses SET status = ? WHERE id = ?",
                    arguments: [event.type == .end ? "ended" : "brokenOff", courseId])
                // A course that is over is nudged about nothing.
                try db.execute(sql: "DELETE FROM nudge_counts WHERE course_id = ?", arguments: [courseId])
                try db.execute(
                    sql: "UPDATE clinician_nudges SET resolved_at = ? WHERE course_id = ? AND resolved_at IS NULL",
                    arguments: [at.seconds, courseId])
            default:
                break
            }
            if course.status == .active, ![.end, .breakOff].contains(event.type) {
                for milestone in restartingNudges {
                    // What the nudge asked for has come: it is done, and the count starts again.
                    try db.execute(
                        sql: """
                            INSERT INTO nudge_counts (course_id, milestone, since) VALUES (?, ?, ?)
                            ON CONFLICT (course_id, milestone) DO UPDATE SET since = MAX(since, excluded.since)
                            """, arguments: [courseId, milestone, event.date.description])
                    // A back-dated event may restart a count behind the watermark: the next pass looks again from there.
                    try db.execute(
                        sql: "UPDATE nudge_watermarks SET raised_through = ? WHERE milestone = ? AND raised_through >= ?",
                        arguments: [event.date.adding(days: -1).description, milestone, event.date.description])
                    try db.execute(
                        sql: "UPDATE clinician_nudges SET resolved_at = ? WHERE course_id = ? AND milestone = ? AND resolved_at IS NULL",
                        arguments: [at.seconds, courseId, milestone])
                }
            }
            if !patient.isReserved {
                for plan in plans {
                    try Self.insertInvitation(db, plan: plan, course: course, actor: event.recordedBy, at: at)
                }
            }
            try Self.audit(
                db,
                AuditEntry(
                    at: at, actor: event.recordedBy, action: "course.event", subject: course.patientId,
                    detail: "\(event.type.rawValue) \(event.date) on course \(courseId)"))
            guard let updated = try Self.course(in: db, id: courseId) else { throw StoreError.notFound(what: "course", id: courseId) }
            return updated
        }
    }

    static func insertInvitation(_ db: Database, plan: ScheduleProtocol.Plan, course: CourseRecord, actor: String, at: Date) throws {
        let id = RecordId.random()  // it travels inside the patient's link
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO invitations (id, course_id, patient_id, milestone, instruments, trigger_event_id, due_date,
                    state, opens_at, closes_at, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, 'scheduled', ?, ?, ?, ?)
                """,
            arguments: [
                id, course.id, course.patientId, plan.milestone, plan.instruments.joined(separator: ","),
                plan.triggerEventId, plan.dueDate.description, plan.opensAt.seconds, plan.closesAt.seconds,
                at.seconds, at.seconds,
            ])
        guard db.changesCount == 1 else { return }
        try db.execute(
            sql:
                "INSERT INTO invitation_history (invitation_id, at, from_state, to_state, cause, actor) VALUES (?, ?, NULL, "
                + "'scheduled', ?, ?)",
            arguments: [id, at.seconds, "scheduled by the \(plan.milestone) milestone", actor])
        for (i, due) in plan.reminders.enumerated() {
            try db.execute(
                sql: "INSERT INTO reminders (invitation_id, seq, due_at, state) VALUES (?, ?, ?, 'pending')",
                arguments: [id, i + 1, due.seconds])
        }
    }

    /// Moves one invitation to `next` if the state machine allows it, writing the history row.
    /// Ending states also cancel the queued messages to the patient. Pending reminders are left as they are: an
    /// ended invitation never takes a reminder again, so they read as cancelled (`invitation(in:id:)`) and the
    /// reminder pass marks them so when they fall due (both engines). At a submission their update was a fifth of
    /// its pages.
    @discardableResult
    static func transition(
        _ db: Database, invitationId: String, from known: InvitationState? = nil, to next: InvitationState, cause: String, actor: String,
        at: Date, cancelReason: CancelReason? = nil
    ) throws -> InvitationState {
        let current = try known ?? invitationState(db, invitationId)
        do {
            _ = try current.moved(to: next)
        } catch {
            throw StoreError.illegalTransition(error.description)
        }
        try db.cachedStatement(
            sql: """
                UPDATE invitations SET state = ?, cancel_reason = COALESCE(?, cancel_reason), updated_at = ?,
                    reminders_sent = reminders_sent + ? WHERE id = ?
                """
        ).execute(arguments: [next.rawValue, cancelReason?.rawValue, at.seconds, next == .reminded ? 1 : 0, invitationId])
        try db.cachedStatement(
            sql: "INSERT INTO invitation_history (invitation_id, at, from_state, to_state, cause, actor) VALUES (?, ?, ?, ?, ?, ?)"
        ).execute(arguments: [invitationId, at.seconds, current.rawValue, next.rawValue, cause, actor])
        if next.isTerminal {
            // Messages to the patient stop; the forward of a completed invitation's answers must not.
            try db.cachedStatement(
                sql: """
                    UPDATE outbox SET state = 'cancelled', last_error = ?, updated_at = ?
                    WHERE invitation_id = ? AND state = 'queued' AND kind IN ('invitation', 'reminder', 'code')
                    """
            ).execute(arguments: ["invitation \(next.rawValue)", at.seconds, invitationId])
        }
        return current
    }
}
