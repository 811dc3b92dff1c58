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
        signedIn.post("/", use: start)
        signedIn.get("pasient/:id", use: patientPage)
        signedIn.post("forlop/:id/hendelse", use: recordEvent)
        signedIn.get("invitasjoner", use: invitations)
        signedIn.post("invitasjoner", use: invitations)
        signedIn.get("oppfolging", use: worklist)
        signedIn.post("oppfolging", use: worklist)
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
        let t = pages.clinicianTexts(for: clinician)
        let query = try await ListQuery.read(request, sorts: ["startet", "neste", "enhet"] + (clinician.role.seesNames ? ["navn"] : []))
        var courses = try await access.courseSummaries(for: .clinician(clinician)).filter {
            (query.unit == nil || $0.unit == query.unit) && (query.state == nil || $0.status == query.state)
        }
        if let found = try await patients(matching: query.search, among: Set(courses.map(\.patientId)), clinician) {
            courses = courses.filter { found.contains($0.patientId) }
        }
        // Sorting by name opens every listed name (audited); the other orders open only the page's.
        let named = query.sort == "navn" ? try await people(of: Set(courses.map(\.patientId)), clinician, purpose: "course list") : [:]
        courses.sort { a, b in
            switch query.sort {
            case "neste": return (a.nextOpensAt ?? .distantFuture, a.courseId) < (b.nextOpensAt ?? .distantFuture, b.courseId)
            case "enhet": return (a.unit, a.courseId) < (b.unit, b.courseId)
            case "navn":
                return (displayName(a.patientId, named, t).lowercased(), a.courseId) < (
                    displayName(b.patientId, named, t).lowercased(), b.courseId
                )
            default: return (a.startedOn?.description ?? "", a.courseId) > (b.startedOn?.description ?? "", b.courseId)
            }
        }
        let (page, pager) = query.paged(courses, path: "/", t)
        let people = query.sort == "navn" ? named : try await people(of: Set(page.map(\.patientId)), clinician, purpose: "course list")
        let flags =
            clinician.role.seesResults
            ? try await access.safetyFlags(for: .clinician(clinician), unseenOnly: true).map {
                safetyFlagView($0, t, back: "/", showsPatient: true)
            } : []
        let nudges = try await nudgeSection(clinician, t)
        let controls = listControls(
            query, path: "/", units: units, t,
            states: CourseStatus.allCases.map { ($0.rawValue, t.state($0.rawValue)) },
            sorts: [("startet", t["sortStarted"]), ("neste", t["sortNext"]), ("enhet", t["sortUnit"])]
                + (clinician.role.seesNames ? [("navn", t["sortName"])] : []), searchesNames: clinician.role.seesNames)
        return pages.clinicianPage(
            "clinician-start", title: t["navCourses"],
            context: nudges.merging(controls) { $1 }.merging(pager) { $1 }.merging([
                "units": units.map { ["resh": $0.resh, "name": $0.name] },
                "hasCourses": !page.isEmpty,
                "courses": page.map { c -> [String: Any] in
                    var row: [String: Any] = [
                        "patientURL": "/pasient/\(c.patientId)#forlop-\(c.courseId)", "patient": displayName(c.patientId, people, t),
                        "pseudonym": people[c.patientId] == nil ? "" : String(c.patientId.prefix(8)), "unit": c.unit,
                        "type": c.type, "status": t.state(c.status), "started": c.startedOn.map(t.date) ?? t["courseNotStarted"],
                    ]
                    if let milestone = c.nextMilestone, let opens = c.nextOpensAt {
                        // An invitation already open says so, rather than showing a date in the past as "next".
                        let when = opens <= services.now() ? t["nextOpenNow"] : t.date(opens)
                        row["next"] = "\(services.milestoneLabel(milestone, t.language)), \(when) (\(t.state(c.nextState ?? "")))"
                    }
                    return row
                },
                "canSeePatients": clinician.role.seesResults,
                "hasFlags": !flags.isEmpty, "flags": flags,
            ]) { $1 }, clinician: clinician, csrf: csrf, back: "/", notice: SavedNotice.shown(in: request))
    }

    func invitations(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (clinician, csrf) = try context.session()
        let t = pages.clinicianTexts(for: clinician)
        let query = try await ListQuery.read(request, sorts: ["apner", "lukkes", "enhet"])
        let units = try await access.units(for: .clinician(clinician))
        var list = try await access.invitationSummaries(for: .clinician(clinician)).filter {
            (query.unit == nil || $0.unit == query.unit) && (query.state == nil || $0.state == query.state)
                && (query.milestone == nil || $0.milestone == query.milestone)
        }
        if let found = try await patients(matching: query.search, among: Set(list.map(\.patientId)), clinician) {
            list = list.filter { found.contains($0.patientId) }
        }
        list.sort { a, b in
            switch query.sort {
            case "lukkes": return (a.closesAt, a.invitationId) < (b.closesAt, b.invitationId)
            case "enhet": return (a.unit, a.invitationId) < (b.unit, b.invitationId)
            default: return (a.opensAt, a.invitationId) > (b.opensAt, b.invitationId)
            }
        }
        let (page, pager) = query.paged(list, path: "/invitasjoner", t)
        let people = try await people(of: Set(page.map(\.patientId)), clinician, purpose: "invitation list")
        let controls = listControls(
            query, path: "/invitasjoner", units: units, t,
            states: InvitationState.allCases.map { ($0.rawValue, t.state($0.rawValue)) },
            milestones: services.pathways.scheduleProtocol.milestones.map { ($0.id, services.milestoneLabel($0.id, t.language)) },
            sorts: [("apner", t["sortOpens"]), ("lukkes", t["sortCloses"]), ("enhet", t["sortUnit"])],
            searchesNames: clinician.role.seesNames)
        return pages.clinicianPage(
            "clinician-invitations", title: t["navInvitations"],
            context: controls.merging(pager) { $1 }.merging([
                "hasRows": !page.isEmpty, "rows": page.map { row(for: $0, clinician, people: people) },
            ]) { $1 }, clinician: clinician, csrf: csrf, back: "/invitasjoner", notice: SavedNotice.shown(in: request))
    }

    /// The search, filter and sort form above a list (a GET form: nothing changes, and the result can be bookmarked).
    func listControls(
        _ query: ListQuery, path: String, units: [SvarStore.Unit], _ t: ClinicianTexts, states: [(String, String)],
        milestones: [(String, String)] = [], sorts: [(String, String)], searchesNames: Bool
    ) -> [String: Any] {
        [
            "listAction": path, "search": query.search, "searchHint": searchesNames ? t["searchHintNames"] : t["searchHintPseudonym"],
            "unitOptions": ListQuery.options(units.map { ($0.resh, "\($0.name) (\($0.resh))") }, chosen: query.unit, all: t["filterAll"]),
            "stateOptions": ListQuery.options(states.map { ($0.0, $0.1) }, chosen: query.state, all: t["filterAll"]),
            "hasMilestones": !milestones.isEmpty,
            "milestoneOptions": ListQuery.options(milestones.map { ($0.0, $0.1) }, chosen: query.milestone, all: t["filterAll"]),
            "sortOptions": sorts.map { ["value": $0.0, "label": $0.1, "selected": $0.0 == query.sort] },
        ]
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
