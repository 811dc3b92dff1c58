import Foundation
import GRDB
import SvarDomain
import SvarStore

extension SQLiteStore {
    public func addUser(
        username: String, passwordHash: String, role: Role, units: [String], totpSecret: SealedIdentity?, actor: String,
        at: Date
    ) async throws {
        try await db.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE username = ?", arguments: [username]) == true {
                throw StoreError.conflict(field: "username", reason: "user '\(username)' exists already")
            }
            for unit in units where try Bool.fetchOne(db, sql: "SELECT 1 FROM units WHERE resh = ?", arguments: [unit]) != true {
                throw StoreError.notFound(what: "unit", id: unit)
            }
            try db.execute(
                sql: """
                    INSERT INTO users (username, password_hash, role, totp_key_id, totp_sealed, created_at) VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [username, passwordHash, role.rawValue, totpSecret?.keyId, totpSecret.map { Data($0.box) }, at.seconds])
            for unit in Set(units) {
                try db.execute(sql: "INSERT INTO user_units (username, unit) VALUES (?, ?)", arguments: [username, unit])
            }
            try Self.audit(
                db,
                AuditEntry(
                    at: at, actor: actor, action: "user.add", subject: username,
                    detail: "role \(role.rawValue), units \(units.sorted().joined(separator: ","))\(totpSecret == nil ? "" : ", TOTP")"))
        }
    }

    public func disableUser(username: String, actor: String, at: Date) async throws {
        try await db.write { db in
            try db.execute(
                sql: "UPDATE users SET disabled_at = COALESCE(disabled_at, ?) WHERE username = ?", arguments: [at.seconds, username])
            guard db.changesCount == 1 else { throw StoreError.notFound(what: "user", id: username) }
            try db.execute(sql: "DELETE FROM sessions WHERE username = ?", arguments: [username])
            try Self.audit(db, AuditEntry(at: at, actor: actor, action: "user.disable", subject: username))
        }
    }

    public func user(_ username: String) async throws -> UserRecord? {
        try await db.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM users WHERE username = ?", arguments: [username]) else { return nil }
            let role: Role = try row.strict("role", in: "users")
            let units = try String.fetchAll(db, sql: "SELECT unit FROM user_units WHERE username = ? ORDER BY unit", arguments: [username])
            var totp: SealedIdentity?
            if let keyId = row["totp_key_id"] as String?, let sealed = row["totp_sealed"] as Data? {
                totp = SealedIdentity(keyId: keyId, box: [UInt8](sealed))
            }
            return UserRecord(
                username: row["username"], passwordHash: row["password_hash"], role: role, units: units, totpSecret: totp,
                disabledAt: (row["disabled_at"] as Int64?).map(Date.init(seconds:)),
                lockedUntil: (row["locked_until"] as Int64?).map(Date.init(seconds:)), language: row["language"])
        }
    }

    public func setLanguage(username: String, language: String?, at: Date) async throws {
        try await db.write { db in
            try db.execute(sql: "UPDATE users SET language = ? WHERE username = ?", arguments: [language, username])
            guard db.changesCount == 1 else { throw StoreError.notFound(what: "user", id: username) }
            try Self.audit(
                db, AuditEntry(at: at, actor: username, action: "user.language", subject: username, detail: language ?? "default"))
        }
    }

    public func admitLogin(nameKey: [UInt8], username: String, at: Date, maximum: Int, lock: TimeInterval) async throws -> LoginAdmission {
        try await db.write { db in
            let key = Data(nameKey)
            // Forget counts nobody has added to for a day (a lock outlives its row by no more than that).
            try db.execute(sql: "DELETE FROM login_attempts WHERE updated_at < ?", arguments: [at.seconds - 86_400])
            let row = try Row.fetchOne(db, sql: "SELECT failures, locked_until FROM login_attempts WHERE name_key = ?", arguments: [key])
            if let until = row?["locked_until"] as Int64?, until > at.seconds { return .locked }
            var failures = (row?["failures"] as Int? ?? 0) + 1
            var lockedUntil: Int64?
            if failures >= maximum {
                failures = 0
                lockedUntil = at.addingTimeInterval(lock).seconds
                let known = try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE username = ?", arguments: [username]) == true
                try Self.audit(
                    db,
                    AuditEntry(
                        at: at, actor: "login", action: "login.locked", subject: known ? username : "(no such account)",
                        detail: "\(maximum) attempts in a row"))
            }
            try db.execute(
                sql: """
                    INSERT INTO login_attempts (name_key, failures, locked_until, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (name_key) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until,
                        updated_at = excluded.updated_at
                    """, arguments: [key, failures, lockedUntil, at.seconds])
            return lockedUntil == nil ? .admitted : .lastBeforeLock
        }
    }

    public func recordLoginSuccess(username: String, nameKey: [UInt8], totpStep: Int64?, at: Date) async throws -> Bool {
        try await db.write { db in
            if let step = totpStep {
                try db.execute(
                    sql: "UPDATE users SET totp_last_step = ? WHERE username = ? AND COALESCE(totp_last_step, -1) < ?",
                    arguments: [step, username, step])
                guard db.changesCount == 1 else { return false }
            }
            try db.execute(sql: "DELETE FROM login_attempts WHERE name_key = ?", arguments: [Data(nameKey)])
            try Self.audit(db, AuditEntry(at: at, actor: username, action: "user.login", subject: username))
            return true
        }
    }

    public func setTOTP(username: String, secret: SealedIdentity, actor: String, at: Date) async throws {
        try await db.write { db in
            try db.execute(
                sql: "UPDATE users SET totp_key_id = ?, totp_sealed = ?, totp_last_step = NULL WHERE username = ?",
                arguments: [secret.keyId, Data(secret.box), username])
            guard db.changesCount == 1 else { throw StoreError.notFound(what: "user", id: username) }
            try db.execute(sql: "DELETE FROM sessions WHERE username = ?", arguments: [username])
            try Self.audit(db, AuditEntry(at: at, actor: actor, action: "user.totp", subject: username, detail: "new TOTP secret"))
        }
    }

    public func unitsInScope(of user: UserRecord) async throws -> Set<String> {
        guard user.role.includesSubunits else { return Set(user.units) }
        return try await db.read { db in
            var scope = Set(user.units)
            var frontier = user.units
            while !frontier.isEmpty {
                let marks = frontier.map { _ in "?" }.joined(separator: ", ")
                let children = try String.fetchAll(
                    db, sql: "SELECT resh FROM units WHERE parent IN (\(marks))", arguments: StatementArguments(frontier))
                frontier = children.filter { scope.insert($0).inserted }
            }
            return scope
        }
    }

    public func createSession(tokenHash: [UInt8], username: String, csrf: String, at: Date) async throws {
        try await db.write { db in
            try db.execute(
                sql: "INSERT INTO sessions (token_hash, username, csrf, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [Data(tokenHash), username, csrf, at.seconds, at.seconds])
        }
    }

    public func liveSession(tokenHash: [UInt8], now: Date, idle: TimeInterval, absolute: TimeInterval) async throws -> (
        username: String, csrf: String
    )? {
        try await db.write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT s.username, s.csrf, s.created_at, s.last_seen_at, u.disabled_at FROM sessions s JOIN users u ON
                            u.username = s.username
                        WHERE s.token_hash = ?
                        """, arguments: [Data(tokenHash)])
            else { return nil }
            let created: Int64 = row["created_at"]
            let seen: Int64 = row["last_seen_at"]
            guard row["disabled_at"] as Int64? == nil, now.seconds - seen <= Int64(idle), now.seconds - created <= Int64(absolute) else {
                try db.execute(sql: "DELETE FROM sessions WHERE token_hash = ?", arguments: [Data(tokenHash)])
                return nil
            }
            try db.execute(sql: "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", arguments: [now.seconds, Data(tokenHash)])
            return (row["username"], row["csrf"])
        }
    }

    public func endSession(tokenHash: [UInt8]) async throws {
        try await db.write { try $0.execute(sql: "DELETE FROM sessions WHERE token_hash = ?", arguments: [Data(tokenHash)]) }
    }

    /// `AND c.unit IN (…)` for a scope (nothing for every unit), with its arguments; nil when the scope is empty.
    static func unitClause(_ scope: Scope, column: String = "c.unit") -> (sql: String, arguments: [String])? {
        guard let units = scope.sortedUnits else { return ("", []) }
        guard !units.isEmpty else { return nil }
        return (" AND \(column) IN (\(units.map { _ in "?" }.joined(separator: ", ")))", units)
    }

    public func courseSummaries(in scope: Scope) async throws -> [CourseSummary] {
        guard let (filter, values) = Self.unitClause(scope) else { return [] }
        return try await db.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT c.id, c.patient_id, c.unit, c.type, c.status, c.created_at, n.milestone, n.opens_at, n.state,
                        (SELECT min(e.date) FROM pathway_events e WHERE e.course_id = c.id AND e.type = 'start') AS started_on
                    FROM courses c
                    LEFT JOIN invitations n ON n.id = (SELECT i.id FROM invitations i WHERE i.course_id = c.id AND i.state IN
                        \(Self.pendingStates)
                                                       ORDER BY i.opens_at, i.milestone LIMIT 1)
                    WHERE 1 = 1\(filter)
                    ORDER BY c.status, COALESCE(n.opens_at, 9223372036854775807), c.created_at DESC LIMIT 1000
                    """, arguments: StatementArguments(values)
            ).map {
                CourseSummary(
                    courseId: $0["id"], patientId: $0["patient_id"], unit: $0["unit"], type: $0["type"], status: $0["status"],
                    registeredAt: Date(seconds: $0["created_at"]),
                    startedOn: ($0["started_on"] as String?).flatMap(LocalDate.init(iso:)), nextMilestone: $0["milestone"],
                    nextOpensAt: ($0["opens_at"] as Int64?).map(Date.init(seconds:)), nextState: $0["state"])
            }
        }
    }

    public func invitationSummaries(in scope: Scope, states: [String]?, orVoidedLinks: Bool, invitationId: String?) async throws
        -> [InvitationSummary]
    {
        guard let clause = Self.unitClause(scope) else { return [] }
        var sql = """
            SELECT i.id, i.course_id, i.patient_id, c.unit, i.milestone, i.state, i.opens_at, i.closes_at, i.reminders_sent,
                (SELECT CASE o.failures WHEN '' THEN o.last_error ELSE o.failures END FROM outbox o
                 WHERE o.patient_id = i.patient_id AND o.invitation_id = i.id AND o.kind IN ('invitation', 'reminder')
                    AND o.state <> 'cancelled'
                    AND (o.last_error IS NOT NULL OR o.failures != '')
                 ORDER BY o.updated_at DESC LIMIT 1) AS problems,
                f.at AS contacted_at, f.by AS contacted_by, f.note AS contact_note, f.contacted_on, lf.voided_at
            FROM invitations i JOIN courses c ON c.id = i.course_id LEFT JOIN follow_up_contacts f ON f.invitation_id = i.id
                LEFT JOIN link_factor lf ON lf.invitation_id = i.id
            WHERE 1 = 1\(clause.sql)
            """
        var arguments = clause.arguments
        if let states {
            sql +=
                " AND (i.state IN (\(states.map { _ in "?" }.joined(separator: ", "))) "
                + "\(orVoidedLinks ? "OR lf.voided_at IS NOT NULL" : ""))"
            arguments += states
        }
        if let invitationId {
            sql += " AND i.id = ?"
            arguments.append(invitationId)
        }
        sql += " ORDER BY i.opens_at DESC, i.id LIMIT 2000"
        let query = sql
        let values = arguments
        return try await db.read { db in
            try Row.fetchAll(db, sql: query, arguments: StatementArguments(values)).map {
                InvitationSummary(
                    invitationId: $0["id"], courseId: $0["course_id"], patientId: $0["patient_id"], unit: $0["unit"],
                    milestone: $0["milestone"], state: $0["state"], opensAt: Date(seconds: $0["opens_at"]),
                    closesAt: Date(seconds: $0["closes_at"]), remindersSent: $0["reminders_sent"],
                    deliveryProblems: (($0["problems"] as String?) ?? "").split(separator: "\n").map(String.init),
                    contactedAt: ($0["contacted_at"] as Int64?).map(Date.init(seconds:)), contactedBy: $0["contacted_by"],
                    linkVoidedAt: ($0["voided_at"] as Int64?).map(Date.init(seconds:)), contactNote: ($0["contact_note"] as String?) ?? "",
                    contactedOn: ($0["contacted_on"] as String?).flatMap(LocalDate.init(iso:)))
            }
        }
    }

    public func markContacted(invitationId: String, by: String, on day: LocalDate, note: String, at: Date) async throws {
        try await db.write { db in
            guard let patient = try String.fetchOne(db, sql: "SELECT patient_id FROM invitations WHERE id = ?", arguments: [invitationId])
            else {
                throw StoreError.notFound(what: "invitation", id: invitationId)
            }
            try db.execute(
                sql: "INSERT OR REPLACE INTO follow_up_contacts (invitation_id, at, by, note, contacted_on) VALUES (?, ?, ?, ?, ?)",
                arguments: [invitationId, at.seconds, by, note, day.description])
            try Self.audit(
                db,
                AuditEntry(
                    at: at, actor: by, action: "follow-up.contacted", subject: patient,
                    detail: "invitation \(invitationId), contacted \(day)"))
        }
    }

    public func results(patientId: String, in scope: Scope) async throws -> [ResultRecord] {
        guard let (filter, units) = Self.unitClause(scope) else { return [] }
        return try await db.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT r.id, r.invitation_id, r.instrument, r.answers, r.submitted_at, i.course_id, i.milestone, c.unit
                    FROM responses r JOIN invitations i ON i.id = r.invitation_id JOIN courses c ON c.id = i.course_id
                    WHERE i.patient_id = ?\(filter) ORDER BY r.submitted_at, r.instrument
                    """, arguments: StatementArguments([patientId] + units))
            return try rows.map { row in
                let id: String = row["id"]
                let scores = try Row.fetchAll(db, sql: "SELECT * FROM scores WHERE response_id = ? ORDER BY rowid", arguments: [id]).map {
                    StoredScore(
                        key: $0["key"], number: $0["number"], flag: $0["flag"], itemsAnswered: $0["items_answered"],
                        itemsInScale: $0["items_in_scale"], algorithm: $0["algorithm"], valueSet: $0["value_set"])
                }
                return ResultRecord(
                    invitationId: row["invitation_id"], courseId: row["course_id"], milestone: row["milestone"], unit: row["unit"],
                    instrument: row["instrument"], submittedAt: Date(seconds: row["submitted_at"]), answersJSON: row["answers"],
                    scores: scores)
            }
        }
    }

    public func patientUnits(_ patientId: String) async throws -> Set<String> {
        try await db.read {
            Set(try String.fetchAll($0, sql: "SELECT DISTINCT unit FROM courses WHERE patient_id = ?", arguments: [patientId]))
        }
    }

    public func courses(patientId: String, in scope: Scope) async throws -> [CourseRecord] {
        guard let (filter, units) = Self.unitClause(scope, column: "unit") else { return [] }
        return try await db.read { db in
            try String.fetchAll(
                db, sql: "SELECT id FROM courses WHERE patient_id = ?\(filter) ORDER BY created_at",
                arguments: StatementArguments([patientId] + units)
            )
            .compactMap { try Self.course(in: db, id: $0) }
        }
    }
}
