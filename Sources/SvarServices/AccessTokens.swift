import Foundation
import JWTKit
import SvarDomain
import SvarStore

/// Bearer JWTs from an OpenID Connect provider (HelseID-style access tokens) for the API: signature by a key
/// of the configured JWKS file, issuer, audience, expiry and not-before, then the Svar claims `svar_role` and
/// `svar_units` (RESH-ids). Configured by `SVAR_OIDC_ISSUER`, `SVAR_OIDC_AUDIENCE` and `SVAR_OIDC_JWKS_FILE`.
public struct AccessTokens: Sendable {
    let keys: JWTKeyCollection
    public let issuer: String
    public let audience: String

    struct Claims: JWTPayload {
        var iss: IssuerClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var nbf: NotBeforeClaim?
        var sub: SubjectClaim
        var role: String?
        var units: UnitsClaim?

        enum CodingKeys: String, CodingKey {
            case iss, aud, exp, nbf, sub
            case role = "svar_role"
            case units = "svar_units"
        }

        func verify(using algorithm: some JWTAlgorithm) async throws {
            try exp.verifyNotExpired()
            try nbf?.verifyNotBefore()
        }
    }

    /// A list of RESH-ids, or one string of them separated by spaces (both are common in access tokens).
    struct UnitsClaim: Codable, Sendable {
        var values: [String]
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let list = try? container.decode([String].self) {
                values = list
            } else {
                values = try container.decode(String.self).split(separator: " ").map(String.init)
            }
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(values)
        }
    }

    public struct TokenError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public static func fromEnvironment(_ env: [String: String]) async throws(ConfigurationProblem) -> AccessTokens? {
        func value(_ key: String) -> String? { env[key].flatMap { $0.isEmpty ? nil : $0 } }
        let names = ["SVAR_OIDC_ISSUER", "SVAR_OIDC_AUDIENCE", "SVAR_OIDC_JWKS_FILE"]
        let given = names.filter { value($0) != nil }
        guard !given.isEmpty else { return nil }
        if let missing = names.first(where: { value($0) == nil }) {
            throw ConfigurationProblem(variable: missing, reason: "is required with \(given.joined(separator: ", "))")
        }
        let file = value("SVAR_OIDC_JWKS_FILE") ?? ""
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConfigurationProblem(variable: "SVAR_OIDC_JWKS_FILE", reason: "cannot read \(file)")
        }
        do {
            let keys = try await JWTKeyCollection().add(jwksJSON: String(decoding: data, as: UTF8.self))
            return AccessTokens(keys: keys, issuer: value("SVAR_OIDC_ISSUER") ?? "", audience: value("SVAR_OIDC_AUDIENCE") ?? "")
        } catch {
            throw ConfigurationProblem(variable: "SVAR_OIDC_JWKS_FILE", reason: "not a JWKS document (\(error))")
        }
    }

    public init(keys: JWTKeyCollection, issuer: String, audience: String) {
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
    }

    /// The clinician a valid token names, with sub-units expanded for roles that include them.
    public func clinician(from token: String, store: any Store) async throws -> Clinician {
        let claims: Claims
        do {
            claims = try await keys.verify(token, as: Claims.self)
        } catch {
            throw TokenError(description: "the token is not valid (signature, expiry or format)")
        }
        guard claims.iss.value == issuer else { throw TokenError(description: "the token is from another issuer") }
        guard claims.aud.value.contains(audience) else { throw TokenError(description: "the token is for another audience") }
        guard let roleName = claims.role, let role = Role(rawValue: roleName) else {
            throw TokenError(description: "the token has no svar_role Svar knows")
        }
        let user = UserRecord(
            username: "oidc:\(claims.sub.value)", passwordHash: "", role: role, units: claims.units?.values ?? [],
            totpSecret: nil, disabledAt: nil, lockedUntil: nil)
        return Clinician(username: user.username, role: role, units: try await store.unitsInScope(of: user))
    }
}
