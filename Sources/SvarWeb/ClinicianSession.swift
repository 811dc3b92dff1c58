import Foundation
import Hummingbird
import SvarDomain
import SvarServices
import SvarStore

/// Sessions for the clinician pages: a random token in an HttpOnly, SameSite=Strict cookie (Secure when the
/// public URL is https), only its hash in the database, ended by idle and absolute limits.
struct ClinicianSession: Sendable {
    static let cookieName = "svar_session"
    let services: AppServices

    /// Runs `body` for a live session; otherwise sends the browser to the login page (and back afterwards).
    func page(_ request: Request, _ context: AppRequestContext,
              _ body: (Clinician, String) async throws -> Response) async throws -> Response {
        guard let token = request.cookies[Self.cookieName]?.value,
              let (clinician, csrf) = try await services.accounts.resume(token: token, now: services.now()) else {
            let next = request.uri.path == "/" ? "" : "?neste=\(request.uri.path.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["/", "-"])) ?? "")"
            return Response(status: .seeOther, headers: [.location: "/login\(next)"])
        }
        do {
            return try await body(clinician, csrf)
        } catch let problem as Problem {
            // The API's problems are in English; the pages say it in the users' language.
            let (heading, text) = problem.status == .forbidden
                ? ("Ingen tilgang", "Rollen din (\(RoleText.label(clinician.role))) gir ikke tilgang til dette.")
                : ("Det gikk ikke", "Forespørselen kunne ikke utføres.")
            return services.pages.clinicianMessage(heading, text, status: problem.status, clinician: clinician, csrf: csrf)
        } catch let error as StoreError {
            if case .notFound = error {
                return services.pages.clinicianMessage("Ikke funnet", "Siden finnes ikke, eller den gjelder en enhet du ikke har tilgang til.",
                                                       status: .notFound, clinician: clinician, csrf: csrf)
            }
            return services.pages.clinicianMessage("Det gikk ikke", "Endringen passer ikke med det som allerede er registrert (for eksempel en pasient som har bedt om sletting).",
                                                   status: .conflict, clinician: clinician, csrf: csrf)
        }
    }

    /// A state-changing form: the session's CSRF token must come back in the `csrf` field.
    func form(_ request: Request, _ context: AppRequestContext,
              _ body: (Clinician, String, [String: String]) async throws -> Response) async throws -> Response {
        let fields = try await PatientController.form(request)
        return try await page(request, context) { clinician, csrf in
            guard let given = fields["csrf"], constantTimeEqual(given.utf8, csrf.utf8) else {
                return services.pages.clinicianMessage("Skjemaet er utløpt", "Last siden på nytt og prøv igjen.", status: .forbidden,
                                                       clinician: clinician, csrf: csrf)
            }
            return try await body(clinician, csrf, fields)
        }
    }

    func cookie(_ token: String, maxAge: Int? = nil) -> Cookie {
        Cookie(name: Self.cookieName, value: token, maxAge: maxAge, path: "/", secure: services.configuration.publicURL.hasPrefix("https:"),
               httpOnly: true, sameSite: .strict)
    }

    /// The login form's double-submit CSRF cookie (there is no session yet).
    func loginCSRFCookie(_ value: String) -> Cookie {
        Cookie(name: PatientController.csrfCookie, value: value, path: "/", secure: services.configuration.publicURL.hasPrefix("https:"),
               httpOnly: true, sameSite: .strict)
    }
}
