import Foundation
import Hummingbird
import SvarDomain
import SvarInstruments
import SvarServices
import SvarStore

/// The clinicians' and registry staff's pages (docs/architecture.md): login, the courses of their units, a patient's
/// results with charts, the invitation tracking list, the follow-up worklist, the response-rate dashboard and
/// the forms to enrol a patient and record pathway events. Server-rendered; no JavaScript. Every page but the login
/// is behind `ClinicianSessionMiddleware`, which puts the clinician in the request context.
struct ClinicianController: Sendable {
    let services: AppServices
    /// Failed logins per client, answered before any password is hashed.
    let loginFailures: RecentFailures
    var access: Access { Access(store: services.store) }
    var pages: PageRenderer { services.pages }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("login", use: showLogin)
        router.post("login", use: login)
        let signedIn = router.group().add(middleware: ClinicianSessionMiddleware(services: services))
        signedIn.post("logout", use: logout)
        signedIn.post("sprak", use: setLanguage)
        signedIn.get("/", use: start)
        signedIn.get("pasient/:id", use: patientPage)
        signedIn.post("forlop/:id/hendelse", use: recordEvent)
        signedIn.get("invitasjoner", use: invitations)
        signedIn.get("oppfolging", use: worklist)
        signedIn.get("oppfolging/:id/kontaktet", use: contactForm)
        signedIn.post("oppfolging/:id/kontaktet", use: markContacted)
        signedIn.post("svar/:id/sett", use: markSafetyFlagSeen)
        signedIn.get("oversikt", use: dashboard)
        signedIn.get("registrer", use: showEnrol)
        signedIn.post("registrer", use: enrol)
    }

    // MARK: Login

    func showLogin(_ request: Request, context: AppRequestContext) -> Response { loginPage(request, problem: nil) }

    func loginPage(_ request: Request, problem: String?, username: String = "", status: HTTPResponse.Status = .ok) -> Response {
        let csrf = PatientController.csrfValue(request)
        let next = Self.safeNext(request.uri.queryParameters.get("neste").map { String($0) })
        var response = pages.clinicianPage(
            "clinician-login", title: pages.clinicianTexts(for: nil)["loginTitle"],
            context: [
                "action": "/login"
                    + (next == "/"
                        ? "" : "?neste=\(next.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["/", "-"])) ?? "")"),
                "username": username, "hasProblem": problem != nil, "problem": problem ?? "",
            ], clinician: nil, csrf: csrf.value, status: status)
        // The login form's double-submit CSRF cookie (there is no session yet).
        if csrf.isNew { response.setCookie(services.cookies.make(PatientController.csrfCookie, csrf.value)) }
        return response
    }

    func login(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.read(LoginForm.self, from: request)
        let client = context.clientKey(request, services.configuration)
        // The login page is in bokmål: whose language to use is known only after the login.
        let t = pages.clinicianTexts(for: nil)
        let tooMany = t["loginTooMany"]
        guard await !loginFailures.isBlocked(client, now: services.now()) else {
            return loginPage(request, problem: tooMany, status: .tooManyRequests)
        }
        guard PatientController.csrfMatches(request, form.csrf) else {
            return loginPage(request, problem: t["loginFormExpired"], status: .forbidden)
        }
        let username = (form.username ?? "").trimmingCharacters(in: .whitespaces)
        let password = form.password ?? ""
        guard !username.isEmpty, !password.isEmpty, username.count <= 64, password.count <= 256 else {
            return loginPage(
                request, problem: t["loginMissing"], username: String(username.prefix(64)), status: .unprocessableContent)
        }
        switch try await services.accounts.login(username: username, password: password, code: form.code, now: services.now()) {
        case .refused:
            await loginFailures.record(client, now: services.now())
            return loginPage(request, problem: t["loginRefused"], username: username, status: .unauthorized)
        case .locked:
            // The same answer whether the name is an account or not.
            await loginFailures.record(client, now: services.now())
            return loginPage(request, problem: tooMany, username: username, status: .tooManyRequests)
        case .secondFactorRequired:
            return loginPage(
                request,
                problem: t("loginNeedsTOTP", ["username": username]), username: username, status: .forbidden)
        case .busy:
            return loginPage(
                request, problem: t["loginBusy"], username: username, status: .serviceUnavailable)
        case .signedIn(let clinician):
            let (token, _) = try await services.accounts.startSession(for: clinician.username, now: services.now())
            var response = Response(
                status: .seeOther, headers: [.location: Self.safeNext(request.uri.queryParameters.get("neste").map { String($0) })])
            response.setCookie(services.cookies.make(ClinicianSessionMiddleware.cookieName, token))
            return response
        }
    }

    /// Ends the session (the middleware has checked it and the form's CSRF token).
    func logout(_ request: Request, context: AppRequestContext) async throws -> Response {
        if let token = request.cookies[ClinicianSessionMiddleware.cookieName]?.value {
            try await services.accounts.endSession(token: token)
        }
        var response = Response(status: .seeOther, headers: [.location: "/login"])
        response.setCookie(services.cookies.make(ClinicianSessionMiddleware.cookieName, "", maxAge: 0))
        return response
    }

    /// Remembers the language the clinician chose for their pages and goes back to the page they were on.
    func setLanguage(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (clinician, csrf) = try context.session()
        let form = try await FormBody.read(LanguageForm.self, from: request)
        guard let language = form.language.flatMap(Language.init(rawValue:)) else {
            return pages.clinicianMessage("failedHeading", "failedBody", status: .unprocessableContent, clinician: clinician, csrf: csrf)
        }
        try await services.store.setLanguage(username: clinician.username, language: language.rawValue, at: services.now())
        return Response(status: .seeOther, headers: [.location: SavedNotice.language.location(Self.safeNext(form.tilbake))])
    }

    /// Only a path on this site: never `//host` or a scheme, so the login cannot send anyone elsewhere.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"), next.count < 200,
            next.allSatisfy({ $0.isASCII && !$0.isWhitespace })
        else { return "/" }
        return next
    }

    // MARK: Lists

    func start(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (clinician, csrf) = try context.session()
        let units = try await access.units(for: .clinician(clinician))
        let courses = try await access.courseSummaries(for: .clinician(clinician))
        let t = pages.clinicianTexts(for: clinician)
        let flags =
            clinician.role.seesResults
            ? try await access.safetyFlags(for: .clinician(clinician), unseenOnly: true).map {
                safetyFlagView($0, t, back: "/", showsPatient: true)
            } : []
        let nudges = try await nudgeSection(clinician, t)
        return pages.clinicianPage(
            "clinician-start", title: t["navCourses"],
            context: nudges.merging([
                "units": units.map { ["resh": $0.resh, "name": $0.name] },
                "hasCourses": !courses.isEmpty,
                "courses": courses.map { c -> [String: Any] in
                    var row: [String: Any] = [
                        "patientURL": "/pasient/\(c.patientId)#forlop-\(c.courseId)", "patient": String(c.patientId.prefix(8)),
                        "unit": c.unit,
                        "type": c.type, "status": t.state(c.status), "started": c.startedOn.map(t.date) ?? t["courseNotStarted"],
                    ]
                    if let milestone = c.nextMilestone, let opens = c.nextOpensAt {
                        row["next"] =
                            "\(services.milestoneLabel(milestone, t.language)), \(t.date(opens)) (\(t.state(c.nextState ?? "")))"
                    }
                    return row
                },
                "canSeePatients": clinician.role.seesResults,
                "hasFlags": !flags.isEmpty, "flags": flags,
            ]) { $1 }, clinician: clinician, csrf: csrf, back: "/", notice: SavedNotice.shown(in: request))
    }

    func invitations(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (clinician, csrf) = try context.session()
        let list = try await access.invitationSummaries(for: .clinician(clinician))
        return pages.clinicianPage(
            "clinician-invitations", title: pages.clinicianTexts(for: clinician)["navInvitations"],
            context: [
                "hasRows": !list.isEmpty, "rows": list.map { row(for: $0, clinician) },
            ], clinician: clinician, csrf: csrf, back: "/invitasjoner", notice: SavedNotice.shown(in: request))
    }

}

/// The language switch in the clinician pages' header: the language, and the page to go back to.
struct LanguageForm: Decodable {
    var csrf: String?
    var language: String?
    var tilbake: String?
}

/// The login form.
struct LoginForm: Decodable {
    var csrf: String?
    var username: String?
    var password: String?
    var code: String?
}
