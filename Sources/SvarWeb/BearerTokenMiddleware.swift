import Crypto
import Hummingbird

/// Requires `Authorization: Bearer $SVAR_API_TOKEN` on the JSON API, compared in constant time.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let expectedDigest: [UInt8]?

    init(token: String?) {
        expectedDigest = token.map { Array(SHA256.hash(data: Array($0.utf8))) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let expectedDigest else {
            return Problem(status: .unauthorized, title: "API disabled", detail: "the API is off: SVAR_API_TOKEN is not set on the server").response
        }
        let header = request.headers[.authorization] ?? ""
        guard header.hasPrefix("Bearer ") else {
            return unauthorized("send Authorization: Bearer <token>")
        }
        let given = Array(SHA256.hash(data: Array(header.dropFirst("Bearer ".count).utf8)))
        // Both digests are 32 bytes; fold the differences without an early exit.
        var difference: UInt8 = 0
        for (a, b) in zip(given, expectedDigest) { difference |= a ^ b }
        guard difference == 0 else { return unauthorized("the token is not valid") }
        return try await next(request, context)
    }

    func unauthorized(_ detail: String) -> Response {
        var response = Problem(status: .unauthorized, title: "Unauthorized", detail: detail).response
        response.headers[.wwwAuthenticate] = "Bearer realm=\"svar\""
        return response
    }
}
