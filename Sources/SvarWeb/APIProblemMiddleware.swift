import Hummingbird

/// Under `/api/v1`, what the router itself refuses (no such path, or a method the path does not take) is
/// answered like every other API error: `application/problem+json`, so an integrator's client has one shape
/// to read.
struct APIProblemMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/api/") else { return try await next(request, context) }
        do {
            let response = try await next(request, context)
            guard response.status == .notFound || response.status == .methodNotAllowed,
                  response.headers[.contentType] == nil else { return response }
            return problem(request, response.status)
        } catch let error as HTTPError where error.status == .notFound || error.status == .methodNotAllowed {
            return problem(request, error.status)
        }
    }

    func problem(_ request: Request, _ status: HTTPResponse.Status) -> Response {
        Problem(status: status, title: status == .notFound ? "Not found" : "Method not allowed",
                detail: "the API has no operation \(request.method.rawValue) \(request.uri.path.prefix(200))").response
    }
}
