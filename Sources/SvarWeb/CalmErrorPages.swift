import Hummingbird
import SvarInstruments

/// Outside `/api/`, a path Svar does not serve (`/finnes-ikke`, `/a/x/y/z`, a step number a questionnaire does
/// not have) and a form that cannot be read are answered with a calm page in the patient's language (the `lang`
/// query the patient pages carry, else bokmål) and the patient pages' layout — never the server's bare
/// status line. A patient who mistypes a link must meet the same pages, with the same way to get help, as one
/// whose link has expired.
struct CalmErrorPagesMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let pages: PageRenderer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !request.uri.path.hasPrefix("/api/") else { return try await next(request, context) }
        do {
            let response = try await next(request, context)
            // A page's own 404 (the clinician pages', an invalid link's) has its body already.
            guard response.status == .notFound, response.headers[.contentType] == nil else { return response }
            return page(request, "notFound", status: .notFound)
        } catch let error as HTTPError where error.status == .notFound {
            return page(request, "notFound", status: .notFound)
        } catch let error as HTTPError where error.status == .methodNotAllowed {
            return page(request, "notFound", status: .methodNotAllowed)
        } catch let error as HTTPError where error.status == .badRequest {
            return page(request, "badRequest", status: .badRequest)
        }
    }

    func page(_ request: Request, _ kind: String, status: HTTPResponse.Status) -> Response {
        let language = PatientController.language(request) ?? .nb
        let heading = pages.text("\(kind)Heading", language)
        // The language links lead to the same address in the other languages (it stays a 404 there too).
        return pages.render(
            "message", language: language, title: heading, context: ["heading": heading, "body": pages.text("\(kind)Body", language)],
            languageURL: { $0.url(request.uri.path) }, csrf: PatientController.csrfValue(request).value, status: status)
    }
}
