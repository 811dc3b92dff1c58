import Crypto
import Hummingbird
import SvarDomain
import SvarServices

/// Authenticates the JSON API: `Authorization: Bearer` with `SVAR_API_TOKEN` (compared in constant time) or an
/// OIDC access token (`SVAR_OIDC_*`). Sets the request's principal; refuses with 401 otherwise.
struct APIAuthMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let services: AppServices
    let expectedDigest: [UInt8]?

    init(services: AppServices) {
        self.services = services
        expectedDigest = services.configuration.apiToken.map { Array(SHA256.hash(data: Array($0.utf8))) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard expectedDigest != nil || services.accessTokens != nil else {
            return try Problem(
                status: .unauthorized, title: "API disabled",
                detail: "the API is off: neither SVAR_API_TOKEN nor SVAR_OIDC_* is set on the server"
            ).response()
        }
        let header = request.headers[.authorization] ?? ""
        guard header.hasPrefix("Bearer "), header.count > "Bearer ".count, header.count < 8192 else {
            return try unauthorized("send Authorization: Bearer <token>")
        }
        let token = String(header.dropFirst("Bearer ".count))
        var context = context
        if let expectedDigest, constantTimeEqual(Array(SHA256.hash(data: Array(token.utf8))), expectedDigest) {
            context.principal = .system
            return try await next(request, context)
        }
        guard let tokens = services.accessTokens, token.split(separator: ".").count == 3 else {
            return try unauthorized("the token is not valid")
        }
        do {
            context.principal = .clinician(try await tokens.clinician(from: token, store: services.store))
        } catch let error as AccessTokens.TokenError {
            return try unauthorized(error.description)
        }
        return try await next(request, context)
    }

    func unauthorized(_ detail: String) throws -> Response {
        var response = try Problem(status: .unauthorized, title: "Unauthorized", detail: detail).response()
        response.headers[.wwwAuthenticate] = "Bearer realm=\"svar\""
        return response
    }
}
