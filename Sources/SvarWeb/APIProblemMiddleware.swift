import Hummingbird

/// Under `/api/v1`, every error is answered as `application/problem+json`: the problems routes throw, the
/// services' own errors (mapped by `Problem.from`, the one place that does), and what the router itself refuses
/// (no such path, or a method the path does not take) — so an integrator's client has one shape to read.
struct APIProblemMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/api/") else { return try await next(request, context) }
        do {
            let response = try await next(request, context)
            guard response.status == .notFound || response.status == .methodNotAllowed,
                response.headers[.contentType] == nil
            else { return response }
            return try problem(request, response.status)
        } catch let error as HTTPError where error.status == .notFound || error.status == .methodNotAllowed {
            return try problem(request, error.status)
        } catch {
            guard let problem = Problem.from(error) else { throw error }
            return try problem.response()
        }
    }

    func problem(_ request: Request, _ status: HTTPResponse.Status) throws -> Response {
        try Problem(
            status: status, title: status == .notFound ? "Not found" : "Method not allowed",
            detail: "the API has no operation \(request.method.rawValue) \(request.uri.path.prefix(200))"
        ).response()
    }
}
