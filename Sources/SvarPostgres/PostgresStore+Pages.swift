import Foundation
import PostgresNIO
import SvarDomain
import SvarStore

/// What the clinician pages read, always narrowed to a scope: `units` is bound as an array, NULL for every unit.
extension PostgresStore {
    public func courseSummaries(in scope: Scope) async throws -> [CourseSummary] {
        guard scope.units?.isEmpty != true else { return [] }
        let units = scope.sortedUnits
        return try await transaction { tx in
            try await tx.rows(
                """
                SELECT c.id, c.patient_id, c.unit, c.type, c.status, c.created_at, n.milestone, n.opens_at, n.state,
                    (SELECT min(e.date) FROM pathway_events e WHERE e.course_id = c.id AND e.type = 'start') AS started_on
                FROM courses c
                LEFT JOIN invitations n ON n.id = (SELECT i.id FROM invitations i WHERE i.course_id = c.id
                    AND i.state = ANY(\(Self.pendingStates))
                                                   ORDER BY i.opens_at, i.milestone LIMIT 1)
                WHERE (\(units)::text[] IS NULL OR c.unit = ANY(\(units)::text[]))
                ORDER BY c.status, COALESCE(n.opens_at, 9223372036854775807), c.created_at DESC LIMIT 1000
                """
            ).map {
                CourseSummary(
                    courseId: try $0.decode("id"), patientId: try $0.decode("patient_id"), unit: try $0.decode("unit"),
                    type: try $0.decode("type"), status: try $0.decode("status"), registeredAt: try $0.date("created_at"),
                    startedOn: try $0.decode("started_on", as: String?.self).flatMap(LocalDate.init(iso:)),
                    nextMilestone: try $0.decode("milestone"), nextOpensAt: try $0.optionalDate("opens_at"),
                    nextState: try $0.decode("state"))
            }
        }
    }

    public func invitationSummaries(in scope: Scope, states: [String]?, orVoidedLinks: Bool, invitationId: String?) async throws
        -> [InvitationSummary]
    {
        guard scope.units?.isEmpty != true else { return [] }
        let units = scope.sortedUnits
        return try await transaction { tx in
            try await tx.rows(
                ClinicianListQuery.invitations(units: units, states: states, orVoidedLinks: orVoidedLinks, invitationId: invitationId)
            ).map {
                InvitationSummary(
                    invitationId: try $0.decode("id"), courseId: try $0.decode("course_id"), patientId: try $0.decode("patient_id"),
                    unit: try $0.decode("unit"), milestone: try $0.decode("milestone"), state: try $0.decode("state"),
                    opensAt: try $0.date("opens_at"), closesAt: try $0.date("closes_at"), remindersSent: try $0.decode("reminders_sent"),
                    deliveryProblems: try $0.lines("problems"), contactedAt: try $0.optionalDate("contacted_at"),
                    contactedBy: try $0.decode("contacted_by"), linkVoidedAt: try $0.optionalDate("voided_at"),
                    contactNote: try $0.decode("contact_note", as: String?.self) ?? "",
                    contactedOn: try $0.decode("contacted_on", as: String?.self).flatMap(LocalDate.init(iso:)))
            }
        }
    }

    public func markContacted(invitationId: String, by: String, on day: LocalDate, note: String, at: Date) async throws {
        try await transaction { tx in
            guard let patient = try await tx.value("SELECT patient_id FROM invitations WHERE id = \(invitationId)", as: String.self) else {
                throw StoreError.notFound(what: "invitation", id: invitationId)
            }
            try await tx.execute(
                """
                INSERT INTO follow_up_contacts (invitation_id, at, by, note, contacted_on)
                VALUES (\(invitationId), \(at.seconds), \(by), \(note), \(day.description))
                ON CONFLICT (invitation_id) DO UPDATE SET at = excluded.at, by = excluded.by, note = excluded.note,
                    contacted_on = excluded.contacted_on
                """)
            try await tx.audit(
                AuditEntry(
                    at: at, actor: by, action: "follow-up.contacted", subject: patient,
                    detail: "invitation \(invitationId), contacted \(day)"))
        }
    }

    public func results(patientId: String, in scope: Scope) async throws -> [ResultRecord] {
        guard scope.units?.isEmpty != true else { return [] }
        let units = scope.sortedUnits
        return try await transaction { tx in
            var out: [ResultRecord] = []
            for row in try await tx.rows(
                """
                SELECT r.id, r.invitation_id, r.instrument, r.answers, r.submitted_at, i.course_id, i.milestone, c.unit
                FROM responses r JOIN invitations i ON i.id = r.invitation_id JOIN courses c ON c.id = i.course_id
                WHERE i.patient_id = \(patientId) AND (\(units)::text[] IS NULL OR c.unit = ANY(\(units)::text[]))
                ORDER BY r.submitted_at, r.instrument
                """)
            {
                out.append(
                    ResultRecord(
                        invitationId: try row.decode("invitation_id"), courseId: try row.decode("course_id"),
                        milestone: try row.decode("milestone"), unit: try row.decode("unit"), instrument: try row.decode("instrument"),
                        submittedAt: try row.date("submitted_at"), answersJSON: try row.decode("answers"),
                        scores: try await tx.scores(responseId: try row.decode("id"))))
            }
            return out
        }
    }

    public func patientUnits(_ patientId: String) async throws -> Set<String> {
        try await transaction { tx in
            Set(
                try await tx.rows("SELECT DISTINCT unit FROM courses WHERE patient_id = \(patientId)").map {
                    try $0.decode("unit", as: String.self)
                })
        }
    }

    public func courses(patientId: String, in scope: Scope) async throws -> [CourseRecord] {
        guard scope.units?.isEmpty != true else { return [] }
        let units = scope.sortedUnits
        return try await transaction { tx in
            var out: [CourseRecord] = []
            for row in try await tx.rows(
                """
                SELECT id FROM courses WHERE patient_id = \(patientId) AND (\(units)::text[] IS NULL OR unit = ANY(\(units)::text[]))
                ORDER BY created_at, id
                """)
            {
                if let course = try await tx.course(try row.decode("id")) { out.append(course) }
            }
            return out
        }
    }

    public func nudges(in scope: Scope) async throws -> [ClinicianNudge] {
        guard scope.units?.isEmpty != true else { return [] }
        let units = scope.sortedUnits
        return try await transaction { tx in
            try await tx.rows(
                """
                SELECT n.*, c.patient_id, c.unit FROM clinician_nudges n JOIN courses c ON c.id = n.course_id
                WHERE n.resolved_at IS NULL AND (\(units)::text[] IS NULL OR c.unit = ANY(\(units)::text[]))
                ORDER BY n.due_date, n.course_id, n.milestone
                """
            ).map {
                ClinicianNudge(
                    courseId: try $0.decode("course_id"), milestone: try $0.decode("milestone"),
                    dueDate: try $0.date("due_date", in: "clinician_nudges"), createdAt: try $0.date("created_at"),
                    patientId: try $0.decode("patient_id"), unit: try $0.decode("unit"))
            }
        }
    }
}
