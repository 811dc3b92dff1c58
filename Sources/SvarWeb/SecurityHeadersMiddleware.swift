import HTTPTypes
import Hummingbird

/// Strict headers on every response: nothing cached, no referrer (links carry tokens), no sniffing, no
/// framing, and a CSP that allows only Svar's own files.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Set when Svar is reached over TLS (`SVAR_PUBLIC_URL` is https, usually through a TLS-terminating proxy).
    let strictTransportSecurity: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["error.type": "\(type(of: error))"])
            response = Response(status: .internalServerError)
        }
        response.headers[.contentSecurityPolicy] =
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors "
            + "'none'; base-uri 'none'"
        response.headers[.svarReferrerPolicy] = "no-referrer"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.svarFrameOptions] = "DENY"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        if strictTransportSecurity { response.headers[.strictTransportSecurity] = "max-age=31536000; includeSubDomains" }
        return response
    }
}

extension HTTPField.Name {
    // swift-http-types names only the most common fields; these two are spelled out here.
    static let svarReferrerPolicy = literal("Referrer-Policy")
    static let svarFrameOptions = literal("X-Frame-Options")

    static func literal(_ name: String) -> HTTPField.Name {
        guard let field = HTTPField.Name(name) else { preconditionFailure("'\(name)' is not a field name") }
        return field
    }
}
