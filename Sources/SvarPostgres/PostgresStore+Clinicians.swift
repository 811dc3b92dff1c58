import Foundation
import PostgresNIO
import SvarDomain
import SvarStore

/// Accounts, logins and sessions.
extension PostgresStore {
    public func addUser(
        username: String, passwordHash: String, role: Role, units: [String], totpSecret: SealedIdentity?, actor: String,
        at: Date
    ) async throws {
        try await transaction { tx in
            if try await tx.exists("SELECT 1 FROM users WHERE username = \(username)") {
                throw StoreError.conflict(field: "username", reason: "user '\(username)' exists already")
            }
            for unit in units where try await !tx.exists("SELECT 1 FROM units WHERE resh = \(unit)") {
                throw StoreError.notFound(what: "unit", id: unit)
            }
            try await tx.execute(
                """
                INSERT INTO users (username, password_hash, role, totp_key_id, totp_sealed, created_at)
                VALUES (\(username), \(passwordHash), \(role.rawValue), \(totpSecret?.keyId), \(totpSecret.map { Data($0.box) }),
                    \(at.seconds))
                """)
            for unit in Set(units).sorted() {
                try await tx.execute("INSERT INTO user_units (username, unit) VALUES (\(username), \(unit))")
            }
            try await tx.audit(
                AuditEntry(
                    at: at, actor: actor, action: "user.add", subject: username,
                    detail: "role \(role.rawValue), units \(units.sorted().joined(separator: ","))\(totpSecret == nil ? "" : ", TOTP")"))
        }
    }

    public func disableUser(username: String, actor: String, at: Date) async throws {
        try await transaction { tx in
            let changed = try await tx.count(
                """
                UPDATE users SET disabled_at = COALESCE(disabled_at, \(at.seconds)) WHERE username = \(username) RETURNING 1
                """)
            guard changed == 1 else { throw StoreError.notFound(what: "user", id: username) }
            try await tx.execute("DELETE FROM sessions WHERE username = \(username)")
            try await tx.audit(AuditEntry(at: at, actor: actor, action: "user.disable", subject: username))
        }
    }

    public func user(_ username: String) async throws -> UserRecord? {
        try await transaction { tx in
            guard let row = try await tx.row("SELECT * FROM users WHERE username = \(username)") else { return nil }
            let role: Role = try row.strict("role", in: "users")
            let units = try await tx.rows("SELECT unit FROM user_units WHERE username = \(username) ORDER BY unit").map {
                try $0.decode("unit", as: String.self)
            }
            var totp: SealedIdentity?
            if let keyId = try row.decode("totp_key_id", as: String?.self), let sealed = try row.decode("totp_sealed", as: Data?.self) {
                totp = SealedIdentity(keyId: keyId, box: [UInt8](sealed))
            }
            return UserRecord(
                username: try row.decode("username"), passwordHash: try row.decode("password_hash"), role: role, units: units,
                totpSecret: totp, disabledAt: try row.optionalDate("disabled_at"), lockedUntil: try row.optionalDate("locked_until"),
                language: try row.decode("language", as: String?.self))
        }
    }

    public func admitLogin(nameKey: [UInt8], username: String, at: Date, maximum: Int, lock: TimeInterval) async throws -> LoginAdmission {
        let key = Data(nameKey)
        return try await transaction { tx in
            // Forget counts nobody has added to for a day (a lock outlives its row by no more than that).
            try await tx.execute("DELETE FROM login_attempts WHERE updated_at < \(at.seconds - 86_400)")
            // The row exists and is locked before it is read: parallel guesses on several instances queue here.
            try await tx.execute(
                "INSERT INTO login_attempts (name_key, failures, updated_at) VALUES (\(key), 0, \(at.seconds)) ON CONFLICT DO NOTHING")
            let row = try await tx.row("SELECT failures, locked_until FROM login_attempts WHERE name_key = \(key) FOR UPDATE")
            if let until = try row?.decode("locked_until", as: Int64?.self), until > at.seconds { return .locked }
            var failures = (try row?.decode("failures", as: Int64.self) ?? 0) + 1
            var lockedUntil: Int64?
            if failures >= Int64(maximum) {
                failures = 0
                lockedUntil = at.addingTimeInterval(lock).seconds
                let known = try await tx.exists("SELECT 1 FROM users WHERE username = \(username)")
                try await tx.audit(
                    AuditEntry(
                        at: at, actor: "login", action: "login.locked", subject: known ? username : "(no such account)",
                        detail: "\(maximum) attempts in a row"))
            }
            try await tx.execute(
                """
                UPDATE login_attempts SET failures = \(failures), locked_until = \(lockedUntil), updated_at = \(at.seconds) WHERE
                    name_key = \(key)
                """)
            return lockedUntil == nil ? .admitted : .lastBeforeLock
        }
    }

    public func recordLoginSuccess(username: String, nameKey: [UInt8], totpStep: Int64?, at: Date) async throws -> Bool {
        try await transaction { tx in
            if let step = totpStep {
                let used = try await tx.count(
                    """
                    UPDATE users SET totp_last_step = \(step) WHERE username = \(username) AND COALESCE(totp_last_step, -1) < \(step)
                        RETURNING 1
                    """)
                guard used == 1 else { return false }
            }
            try await tx.execute("DELETE FROM login_attempts WHERE name_key = \(Data(nameKey))")
            try await tx.audit(AuditEntry(at: at, actor: username, action: "user.login", subject: username))
            return true
        }
    }

    public func setTOTP(username: String, secret: SealedIdentity, actor: String, at: Date) async throws {
        try await transaction { tx in
            let changed = try await tx.count(
                """
                UPDATE users SET totp_key_id = \(secret.keyId), totp_sealed = \(Data(secret.box)), totp_last_step = NULL
                WHERE username = \(username) RETURNING 1
                """)
            guard changed == 1 else { throw StoreError.notFound(what: "user", id: username) }
            try await tx.execute("DELETE FROM sessions WHERE username = \(username)")
            try await tx.audit(AuditEntry(at: at, actor: actor, action: "user.totp", subject: username, detail: "new TOTP secret"))
        }
    }

    public func setLanguage(username: String, language: String?, at: Date) async throws {
        try await transaction { tx in
            let changed = try await tx.count("UPDATE users SET language = \(language) WHERE username = \(username) RETURNING 1")
            guard changed == 1 else { throw StoreError.notFound(what: "user", id: username) }
            try await tx.audit(
                AuditEntry(at: at, actor: username, action: "user.language", subject: username, detail: language ?? "default"))
        }
    }

    public func unitsInScope(of user: UserRecord) async throws -> Set<String> {
        guard user.role.includesSubunits else { return Set(user.units) }
        return try await transaction { tx in
            var scope = Set(user.units)
            var frontier = user.units
            while !frontier.isEmpty {
                let children = try await tx.rows("SELECT resh FROM units WHERE parent = ANY(\(frontier))").map {
                    try $0.decode("resh", as: String.self)
                }
                frontier = children.filter { scope.insert($0).inserted }
            }
            return scope
        }
    }

    public func createSession(tokenHash: [UInt8], username: String, csrf: String, at: Date) async throws {
        try await transaction { tx in
            try await tx.execute(
                """
                INSERT INTO sessions (token_hash, username, csrf, created_at, last_seen_at)
                VALUES (\(Data(tokenHash)), \(username), \(csrf), \(at.seconds), \(at.seconds))
                """)
        }
    }

    public func liveSession(tokenHash: [UInt8], now: Date, idle: TimeInterval, absolute: TimeInterval) async throws -> (
        username: String, csrf: String
    )? {
        let hash = Data(tokenHash)
        let found = try await transaction { tx -> [String]? in
            guard
                let row = try await tx.row(
                    """
                    SELECT s.username, s.csrf, s.created_at, s.last_seen_at, u.disabled_at FROM sessions s
                        JOIN users u ON u.username = s.username
                    WHERE s.token_hash = \(hash)
                    """)
            else { return nil }
            let created: Int64 = try row.decode("created_at")
            let seen: Int64 = try row.decode("last_seen_at")
            guard try row.decode("disabled_at", as: Int64?.self) == nil, now.seconds - seen <= Int64(idle),
                now.seconds - created <= Int64(absolute)
            else {
                try await tx.execute("DELETE FROM sessions WHERE token_hash = \(hash)")
                return nil
            }
            try await tx.execute("UPDATE sessions SET last_seen_at = \(now.seconds) WHERE token_hash = \(hash)")
            return [try row.decode("username"), try row.decode("csrf")]
        }
        return found.map { (username: $0[0], csrf: $0[1]) }
    }

    public func endSession(tokenHash: [UInt8]) async throws {
        try await transaction { tx in try await tx.execute("DELETE FROM sessions WHERE token_hash = \(Data(tokenHash))") }
    }
}
