import Foundation
import Hummingbird
import SvarDomain
import SvarServices
import SvarStore

/// Sessions for the clinician pages: a random token in an HttpOnly, SameSite=Strict cookie (Secure when the
/// public URL is https), only its hash in the database, ended by idle and absolute limits.
///
/// The middleware of the clinician route group: a live session puts the clinician and its CSRF token in the request
/// context; without one the browser goes to the login page (and back afterwards). A form (POST) must carry the
/// session's CSRF token before any route sees it. The routes' errors become pages in the users' language here.
struct ClinicianSessionMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    static let cookieName = "svar_session"
    let services: AppServices

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        var context = context
        if request.method == .post {
            // Collected once here and still readable by the route (Hummingbird keeps the collected buffer).
            _ = try await request.collectBody(upTo: FormBody.maximumSize)
        }
        guard let token = request.cookies[Self.cookieName]?.value,
            let (clinician, csrf) = try await services.accounts.resume(token: token, now: services.now())
        else {
            let back =
                request.uri.path == "/"
                ? "" : "?neste=\(request.uri.path.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["/", "-"])) ?? "")"
            return Response(status: .seeOther, headers: [.location: "/login\(back)"])
        }
        context.clinician = clinician
        context.sessionCSRF = csrf
        if request.method == .post {
            let form = try await FormBody.read(CSRFForm.self, from: request)
            guard let given = form.csrf, constantTimeEqual(given.utf8, csrf.utf8) else {
                return services.pages.clinicianMessage("csrfHeading", "csrfBody", status: .forbidden, clinician: clinician, csrf: csrf)
            }
        }
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            // The API's problems are in English; the pages say it in the users' language.
            let t = services.pages.clinicianTexts(for: clinician)
            let (heading, text) = problem.status == .forbidden ? ("forbiddenHeading", "forbiddenBody") : ("failedHeading", "failedBody")
            return services.pages.clinicianMessage(
                heading, text, values: ["role": t.role(clinician.role)], status: problem.status, clinician: clinician, csrf: csrf)
        } catch let error as StoreError {
            if case .notFound = error {
                return services.pages.clinicianMessage(
                    "notFoundHeading", "notFoundBody", status: .notFound, clinician: clinician, csrf: csrf)
            }
            return services.pages.clinicianMessage(
                "failedHeading", "conflictBody", status: .conflict, clinician: clinician, csrf: csrf)
        }
    }
}

extension AppRequestContext {
    /// The signed-in clinician and the session's CSRF token, as `ClinicianSessionMiddleware` left them.
    func session() throws -> (clinician: Clinician, csrf: String) {
        guard let clinician, let sessionCSRF else { throw HTTPError(.unauthorized) }
        return (clinician, sessionCSRF)
    }
}
