import Crypto
import Foundation
import HummingbirdBcrypt
import HummingbirdOTP
import SvarDomain
import SvarStore

/// Local accounts and sessions: bcrypt passwords, optional TOTP, lockout after repeated failures, and
/// sessions kept only as token hashes with an idle and an absolute limit.
public struct ClinicianAccounts: Sendable {
    public enum LoginOutcome: Sendable, Equatable {
        case signedIn(Clinician)
        /// Wrong name, password or code, or a disabled account: one answer for all, so nothing is revealed.
        case refused
        case locked(until: Date)
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
    public var idleTimeout: TimeInterval = 30 * 60
    public var absoluteTimeout: TimeInterval = 12 * 3600

    public init(store: any Store, vault: IdentityVault) {
        self.store = store
        self.vault = vault
    }

    /// The accounts of `svar serve`, with `SVAR_SESSION_IDLE` (minutes, 5–480; default 30) as the idle limit.
    public static func fromEnvironment(_ env: [String: String], store: any Store, vault: IdentityVault) throws(ConfigurationProblem) -> ClinicianAccounts {
        var accounts = ClinicianAccounts(store: store, vault: vault)
        if let text = env["SVAR_SESSION_IDLE"], !text.isEmpty {
            guard let minutes = Int(text), (5...480).contains(minutes) else {
                throw ConfigurationProblem(variable: "SVAR_SESSION_IDLE", reason: "'\(text)' is not a whole number of minutes from 5 to 480")
            }
            accounts.idleTimeout = TimeInterval(minutes * 60)
        }
        return accounts
    }

    /// Creates an account; returns the `otpauth://` URL to enrol an authenticator app when `totp` is set.
    public func add(username: String, password: String, role: Role, units: [String], totp: Bool, actor: String, at: Date) async throws -> String? {
        guard (2...64).contains(username.count), username.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-@".contains($0)) }) else {
            throw AccountError(field: "username", reason: "2–64 letters, digits, '.', '_', '-' or '@'")
        }
        guard password.count >= 12 else { throw AccountError(field: "password", reason: "at least 12 characters") }
        guard password.lowercased() != username.lowercased() else { throw AccountError(field: "password", reason: "must not be the user name") }
        guard role.runsRegistry || !units.isEmpty else { throw AccountError(field: "unit", reason: "a \(role.rawValue) needs at least one unit") }
        var secret: String?
        var sealed: SealedIdentity?
        if totp {
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
            var generator = SystemRandomNumberGenerator()
            let text = String((0..<20).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
            secret = text
            sealed = try vault.sealSecret(text, context: "totp:\(username)")
        }
        do {
            try await store.addUser(username: username, passwordHash: Bcrypt.hash(password, cost: bcryptCost), role: role, units: units,
                                    totpSecret: sealed, actor: actor, at: at)
        } catch StoreError.notFound("unit", let id) {
            throw AccountError(field: "unit", reason: "no unit with RESH-id '\(id)'")
        } catch StoreError.conflict(_, let reason) {
            throw AccountError(field: "username", reason: reason)
        }
        return secret.map { TOTP(secret: $0).createAuthenticatorURL(label: username, issuer: "Svar") }
    }

    /// A hash to verify against when the user does not exist, so the answer takes as long either way.
    private static let decoy = Bcrypt.hash("svar-no-such-user", cost: 12)

    public func login(username: String, password: String, code: String?, now: Date) async throws -> LoginOutcome {
        guard let user = try await store.user(username) else {
            _ = Bcrypt.verify(password, hash: Self.decoy)
            return .refused
        }
        if let until = user.lockedUntil, until > now { return .locked(until: until) }
        var valid = Bcrypt.verify(password, hash: user.passwordHash) && user.disabledAt == nil
        if valid, let sealed = user.totpSecret {
            let secret = try vault.openSecret(sealed, context: "totp:\(username)")
            let totp = TOTP(secret: secret)
            let given = code?.filter(\.isNumber) ?? ""
            // The current step and one either side, for clocks that drift.
            valid = [-30.0, 0, 30].contains { offset in
                constantTimeEqual(String(format: "%06d", totp.compute(date: now.addingTimeInterval(offset))).utf8, given.utf8)
            }
        }
        guard valid else {
            try await store.recordLoginFailure(username: username, at: now, maximum: maximumFailures, lock: lockout)
            if let until = try await store.user(username)?.lockedUntil, until > now { return .locked(until: until) }
            return .refused
        }
        try await store.recordLoginSuccess(username: username, at: now)
        return .signedIn(try await clinician(user))
    }

    public func clinician(_ user: UserRecord) async throws -> Clinician {
        Clinician(username: user.username, role: user.role, units: try await store.unitsInScope(of: user))
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
              let user = try await store.user(session.username), user.disabledAt == nil else { return nil }
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
