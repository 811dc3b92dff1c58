import Crypto
import Foundation
import HummingbirdBcrypt
import HummingbirdOTP
import SvarDomain
import SvarStore

/// Local accounts and sessions: bcrypt passwords (hashed off the event loops), TOTP (each time step once;
/// required for the roles in `SVAR_REQUIRE_TOTP`), a lock per submitted user name whether the account exists
/// or not, and sessions kept only as token hashes with an idle and an absolute limit.
public struct ClinicianAccounts: Sendable {
    public enum LoginOutcome: Sendable, Equatable {
        case signedIn(Clinician)
        /// Wrong name, password or code, or a disabled account: one answer for all, so nothing is revealed.
        case refused
        /// Too many failures for this user name (real or not): answered before any hashing.
        case locked
        /// The password was right, but the role must use TOTP and the account has none yet.
        case secondFactorRequired
        /// Too many logins waiting for the password hasher: try again shortly.
        case busy
    }

    public struct AccountError: Error, Sendable, Equatable, CustomStringConvertible {
        public let field: String
        public let reason: String
        public var description: String { "\(field): \(reason)" }
    }

    let store: any Store
    let vault: IdentityVault
    public var bcryptCost: UInt8 = 12
    public var maximumFailures = 5
    public var lockout: TimeInterval = 15 * 60
    public var rolesRequiringTOTP: Set<Role> = [.kvarusKontakt, .registryAdmin]
    public var idleTimeout: TimeInterval = 30 * 60
    public var absoluteTimeout: TimeInterval = 12 * 3600

    public init(store: any Store, vault: IdentityVault) {
        self.store = store
        self.vault = vault
    }

    /// The accounts of `svar serve`, with `SVAR_SESSION_IDLE` (minutes, 5–480; default 30) as the idle limit.
    public static func fromEnvironment(
        _ env: [String: String], store: any Store, vault: IdentityVault,
        configuration: SvarConfiguration
    ) throws(ConfigurationProblem) -> ClinicianAccounts {
        var accounts = ClinicianAccounts(store: store, vault: vault)
        accounts.rolesRequiringTOTP = configuration.rolesRequiringTOTP
        if let text = env["SVAR_SESSION_IDLE"], !text.isEmpty {
            guard let minutes = Int(text), (5...480).contains(minutes) else {
                throw ConfigurationProblem(
                    variable: "SVAR_SESSION_IDLE", reason: "'\(text)' is not a whole number of minutes from 5 to 480")
            }
            accounts.idleTimeout = TimeInterval(minutes * 60)
        }
        return accounts
    }

    /// Creates an account; returns the `otpauth://` URL to enrol an authenticator app when `totp` is set.
    public func add(username: String, password: String, role: Role, units: [String], totp: Bool, actor: String, at: Date) async throws
        -> String?
    {
        guard (2...64).contains(username.count), username.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-@".contains($0)) })
        else {
            throw AccountError(field: "username", reason: "2–64 letters, digits, '.', '_', '-' or '@'")
        }
        guard password.count >= 12 else { throw AccountError(field: "password", reason: "at least 12 characters") }
        guard password.lowercased() != username.lowercased() else {
            throw AccountError(field: "password", reason: "must not be the user name")
        }
        guard role.runsRegistry || !units.isEmpty else {
            throw AccountError(field: "unit", reason: "a \(role.rawValue) needs at least one unit")
        }
        let secret = totp ? Self.newTOTPSecret() : nil
        let sealed = try secret.map { try vault.sealSecret($0, context: "totp:\(username)") }
        do {
            try await store.addUser(
                username: username, passwordHash: try await PasswordHashing.hash(password, cost: bcryptCost), role: role, units: units,
                totpSecret: sealed, actor: actor, at: at)
        } catch StoreError.notFound("unit", let id) {
            throw AccountError(field: "unit", reason: "no unit with RESH-id '\(id)'")
        } catch StoreError.conflict(_, let reason) {
            throw AccountError(field: "username", reason: reason)
        }
        return secret.map { Self.authenticatorURL(secret: $0, username: username) }
    }

    /// Gives an account a new TOTP secret (`svar users totp`); returns the `otpauth://` URL for the app.
    public func enableTOTP(username: String, actor: String, at: Date) async throws -> String {
        let secret = Self.newTOTPSecret()
        try await store.setTOTP(username: username, secret: try vault.sealSecret(secret, context: "totp:\(username)"), actor: actor, at: at)
        return Self.authenticatorURL(secret: secret, username: username)
    }

    static func newTOTPSecret() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var generator = SystemRandomNumberGenerator()
        return String((0..<32).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

    static func authenticatorURL(secret: String, username: String) -> String {
        TOTP(secret: secret).createAuthenticatorURL(label: username, issuer: "Svar")
    }

    /// One login attempt. The name's lock is checked and the attempt counted in one transaction before any
    /// hashing, whether the account exists or not; a success clears the count.
    public func login(username: String, password: String, code: String?, now: Date) async throws -> LoginOutcome {
        let nameKey = vault.keyedHash(username.lowercased(), purpose: "login name")
        let admission = try await store.admitLogin(nameKey: nameKey, username: username, at: now, maximum: maximumFailures, lock: lockout)
        guard admission != .locked else { return .locked }
        let refused: LoginOutcome = admission == .lastBeforeLock ? .locked : .refused
        let user = try await store.user(username)
        let passwordMatches: Bool
        do {
            passwordMatches = try await PasswordHashing.verify(password, hash: user?.passwordHash)
        } catch is PasswordHashing.Busy {
            return .busy
        }
        guard passwordMatches, let user, user.disabledAt == nil else { return refused }
        var step: Int64?
        if let sealed = user.totpSecret {
            step = try totpStep(matching: code ?? "", secret: vault.openSecret(sealed, context: "totp:\(username)"), now: now)
            guard step != nil else { return refused }
        } else if rolesRequiringTOTP.contains(user.role) {
            return .secondFactorRequired
        }
        // A replayed code (its step already used) fails here, atomically with the success.
        guard try await store.recordLoginSuccess(username: username, nameKey: nameKey, totpStep: step, at: now) else { return refused }
        return .signedIn(try await clinician(user))
    }

    /// The time step whose code was given: the current one or one either side, for clocks that drift.
    func totpStep(matching code: String, secret: String, now: Date) -> Int64? {
        let given = code.filter(\.isNumber)
        let totp = TOTP(secret: secret)
        let current = Int64(now.timeIntervalSince1970 / 30)
        var matched: Int64?
        for step in [current - 1, current, current + 1] {
            let expected = String(format: "%06d", totp.compute(date: Date(timeIntervalSince1970: TimeInterval(step * 30))))
            if constantTimeEqual(expected.utf8, given.utf8) { matched = step }
        }
        return matched
    }

    public func clinician(_ user: UserRecord) async throws -> Clinician {
        Clinician(username: user.username, role: user.role, units: try await store.unitsInScope(of: user), language: user.language)
    }

    /// A new session: the token for the cookie (only its hash is stored) and the session's CSRF token.
    public func startSession(for username: String, now: Date) async throws -> (token: String, csrf: String) {
        let token = Self.randomToken()
        let csrf = Self.randomToken()
        try await store.createSession(tokenHash: Self.hash(token), username: username, csrf: csrf, at: now)
        return (token, csrf)
    }

    public func resume(token: String, now: Date) async throws -> (clinician: Clinician, csrf: String)? {
        guard token.count <= 128,
            let session = try await store.liveSession(tokenHash: Self.hash(token), now: now, idle: idleTimeout, absolute: absoluteTimeout),
            let user = try await store.user(session.username), user.disabledAt == nil
        else { return nil }
        return (try await clinician(user), session.csrf)
    }

    public func endSession(token: String) async throws {
        try await store.endSession(tokenHash: Self.hash(token))
    }

    static func hash(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }

    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
