import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdOTP
import HummingbirdTesting
import SvarDomain
import SvarInstruments
import SvarRegistry
import SvarServices
import SvarStore
import SvarWeb
import Testing

/// The access policy of SECURITY.md ("Who may see what") as one table: every route `buildRouter` serves × every kind of
/// caller × a target at the unit-scoped callers' own unit (5001), at its parent (5000) and at an unrelated unit
/// (4208). Each cell checks the status the policy gives, and that nothing of a patient outside the caller's scope
/// (patient ids and their 8-character prefixes, course and invitation ids, names, e-mail addresses, identity
/// numbers, unit names) comes back. Every failing cell is reported, in one message.
@Suite struct AuthorizationMatrixTests {
    @Test func everyRouteHasARowAndEveryRowARoute() async throws {
        let app = try await TestApp.make()
        let served = Set(buildRouter(app.services).routes.map { "\($0.method.rawValue) \($0.path.description)" })
        let listed = Set(Self.table.map(\.route))
        let missing = served.subtracting(listed).sorted()
        let stale = listed.subtracting(served).sorted()
        #expect(missing.isEmpty, "routes with no row in the authorization matrix:\n\(missing.joined(separator: "\n"))")
        #expect(stale.isEmpty, "matrix rows for routes the router no longer serves:\n\(stale.joined(separator: "\n"))")
    }

    @Test func everyCellAnswersAsThePolicySays() async throws {
        let tokens = try await CallerTokens.make()
        var failures: [Failure] = []
        var cells = 0
        try await withThrowingTaskGroup(of: (cells: Int, failures: [Failure]).self) { group in
            var rows = Self.table.makeIterator()
            for _ in 0..<max(2, ProcessInfo.processInfo.activeProcessorCount) {
                if let row = rows.next() { group.addTask { try await row.run(tokens) } }
            }
            while let done = try await group.next() {
                cells += done.cells
                failures += done.failures
                if let row = rows.next() { group.addTask { try await row.run(tokens) } }
            }
        }
        if !failures.isEmpty {
            Issue.record("\(failures.count) of \(cells) cells break the access policy:\n\(Failure.report(failures))")
        }
    }
}

// MARK: - The table

extension AuthorizationMatrixTests {
    /// One row per route (a route with two distinct cases has two labelled rows). The columns say what a unit-scoped
    /// clinician (behandler, kvarus-kontakt), a registerkontakt, the registry-admin and the installation token get:
    /// `.allowed(s)` s wherever the target is; `.forbidden` 403 (the role may not, checked before the scope);
    /// `.inScope(s)` s when the target's unit is in the caller's scope, else 404 (as if absent).
    /// Callers without valid credentials get 401 on the API and 303 to /login on the clinician pages.
    static let table: [Row] = [
        // JSON API (/api/v1)
        .api(
            .post, "/api/v1/units", treats: .forbidden, contact: .forbidden, admin: .allowed(.created), system: .allowed(.created),
            targeted: true
        ) { t in Call("/api/v1/units", json: #"{"resh":"7\#(t.unit)","name":"Ny enhet","parent":"\#(t.unit)"}"#) },
        .api(.get, "/api/v1/units", treats: .allowed(.ok), contact: .allowed(.ok), admin: .allowed(.ok), system: .allowed(.ok)),
        .api(
            .post, "/api/v1/patients", "a number known at the target", treats: .allowed(.created), contact: .forbidden,
            admin: .forbidden, system: .allowed(.conflict), targeted: true
        ) { t in
            Call("/api/v1/patients", json: #"{"identityNumber":"\#(t.number)"}"#)
        }.answeringWithTheTargetsId(),
        .api(
            .post, "/api/v1/patients", "a new number", treats: .allowed(.created), contact: .forbidden, admin: .forbidden,
            system: .allowed(.created)
        ) { _ in Call("/api/v1/patients", json: #"{"identityNumber":"\#(synthetic(40))"}"#) },
        .api(
            .post, "/api/v1/patients/{id}/courses", "at the target's unit", treats: .inScope(.created, outside: .forbidden),
            contact: .forbidden, admin: .forbidden, system: .allowed(.created)
        ) { t in
            Call("/api/v1/patients/\(t.patientId)/courses", json: #"{"unit":"\#(t.unit)"}"#)
        },
        .api(
            .post, "/api/v1/patients/{id}/courses", "take-over at 5001", treats: .allowed(.created), contact: .forbidden,
            admin: .forbidden, system: .allowed(.created)
        ) { t in
            Call("/api/v1/patients/\(t.patientId)/courses", json: #"{"unit":"5001"}"#)
        },
        .api(
            .post, "/api/v1/patients/{id}/reservation", treats: .inScope(.created), contact: .forbidden, admin: .allowed(.created),
            system: .allowed(.created)
        ) { t in Call("/api/v1/patients/\(t.patientId)/reservation") },
        .api(
            .get, "/api/v1/patients/{id}/results", treats: .inScope(.ok), contact: .forbidden, admin: .forbidden,
            system: .allowed(.ok)
        ) { t in Call("/api/v1/patients/\(t.patientId)/results") },
        .api(
            .get, "/api/v1/courses/{id}", treats: .inScope(.ok), contact: .inScope(.ok), admin: .inScope(.ok),
            system: .allowed(.ok)
        ) { t in Call("/api/v1/courses/\(t.answeredCourse)") },
        .api(
            .post, "/api/v1/courses/{id}/events", treats: .inScope(.created), contact: .forbidden, admin: .forbidden,
            system: .allowed(.created)
        ) { t in
            Call("/api/v1/courses/\(t.openCourse)/events", json: #"{"type":"firstAttendance","date":"2026-11-22"}"#)
        },
        .api(
            .post, "/api/v1/invitations/{id}/link", treats: .inScope(.created), contact: .forbidden, admin: .forbidden,
            system: .allowed(.created)
        ) { t in Call("/api/v1/invitations/\(t.openInvitation)/link") },
        .api(.get, "/api/v1/nudges", treats: .allowed(.ok), contact: .allowed(.ok), admin: .allowed(.ok), system: .allowed(.ok)),
        .api(
            .get, "/api/v1/unreachable", treats: .allowed(.ok), contact: .allowed(.ok), admin: .allowed(.ok), system: .allowed(.ok),
            targeted: true
        ) { t in Call("/api/v1/unreachable?unit=\(t.unit)") },
        .api(
            .post, "/api/v1/patients/{id}/deletion-request", treats: .forbidden, contact: .forbidden, admin: .allowed(.accepted),
            system: .allowed(.accepted)
        ) { t in Call("/api/v1/patients/\(t.patientId)/deletion-request") },
        .api(
            .get, "/api/v1/patients/{id}/deletion-request", treats: .forbidden, contact: .forbidden, admin: .allowed(.ok),
            system: .allowed(.ok)
        ) { t in Call("/api/v1/patients/\(t.patientId)/deletion-request") }
        .preparedBySystem { t in Call("/api/v1/patients/\(t.patientId)/deletion-request") },
        .api(.get, "/api/v1/forwarding/failed", treats: .forbidden, contact: .forbidden, admin: .allowed(.ok), system: .allowed(.ok)),
        // The fixture has no forward: the roles that may retry learn only that this one does not exist.
        .api(
            .post, "/api/v1/forwarding/{id}/retry", treats: .forbidden, contact: .forbidden, admin: .allowed(.notFound),
            system: .allowed(.notFound), targeted: false
        ) { _ in Call("/api/v1/forwarding/no-such-forward/retry") },
        .api(
            .get, "/api/v1/disclosures", treats: .forbidden, contact: .forbidden, admin: .allowed(.ok), system: .allowed(.ok),
            targeted: true
        ) { t in Call("/api/v1/disclosures?patient=\(t.patientId)") },

        // Clinician pages (session cookie, and the session's CSRF token on forms; an API token counts for nothing here)
        .page(.get, "/", treats: .allowed(.ok), contact: .allowed(.ok), admin: .allowed(.ok)),
        // The lists' search form (posted, so a number or a name never sits in a URL): every role may search, and
        // finds only the patients of its own units, by what it may see.
        .page(
            .post, "/", "a search by the target's number", treats: .allowed(.ok), contact: .allowed(.ok), admin: .allowed(.ok),
            targeted: true
        ) { t in Call("/", form: ["sok": t.number]) },
        .page(
            .post, "/", "a search by the target's name", treats: .allowed(.ok), contact: .allowed(.ok), admin: .allowed(.ok),
            targeted: true
        ) { t in Call("/", form: ["sok": t.name]) },
        .page(.post, "/invitasjoner", "a search", treats: .allowed(.ok), contact: .allowed(.ok), admin: .allowed(.ok), targeted: true) {
            t in Call("/invitasjoner", form: ["sok": t.number])
        },
        .page(.post, "/oppfolging", "a search", treats: .allowed(.ok), contact: .forbidden, admin: .forbidden, targeted: true) { t in
            Call("/oppfolging", form: ["sok": t.name])
        },
        .page(.get, "/pasient/{id}", treats: .inScope(.ok), contact: .forbidden, admin: .forbidden) { t in Call("/pasient/\(t.patientId)")
        },
        .page(.post, "/forlop/{id}/hendelse", treats: .inScope(.seeOther), contact: .forbidden, admin: .forbidden) { t in
            Call("/forlop/\(t.openCourse)/hendelse", form: ["type": "firstAttendance", "date": "2026-11-22"])
        },
        .page(.get, "/invitasjoner", treats: .allowed(.ok), contact: .allowed(.ok), admin: .allowed(.ok)),
        .page(.get, "/oppfolging", treats: .allowed(.ok), contact: .forbidden, admin: .forbidden),
        .page(.post, "/svar/{id}/sett", treats: .inScope(.seeOther), contact: .forbidden, admin: .forbidden) { t in
            Call("/svar/\(t.flaggedResponse)/sett", form: ["tilbake": "/pasient/\(t.patientId)"])
        },
        .page(.get, "/oppfolging/{id}/kontaktet", treats: .inScope(.ok), contact: .forbidden, admin: .forbidden) { t in
            Call("/oppfolging/\(t.expiredInvitation)/kontaktet")
        },
        .page(.post, "/oppfolging/{id}/kontaktet", treats: .inScope(.seeOther), contact: .forbidden, admin: .forbidden) { t in
            Call("/oppfolging/\(t.expiredInvitation)/kontaktet", form: [:])
        },
        .page(.get, "/oversikt", treats: .allowed(.ok), contact: .allowed(.ok), admin: .allowed(.ok)),
        .page(.get, "/registrer", treats: .allowed(.ok), contact: .forbidden, admin: .forbidden),
        // The number of the target's patient, registered anew at 5001: the answer carries the id (the caller's
        // once it has a course at 5001), and the patient page it leads to shows only what 5001 recorded — not the
        // name, contact details, courses or results another unit typed or collected.
        // Confirmed: the form carries the known patient the page announced (a caller who was not told sends it too).
        .page(
            .post, "/registrer", "confirming a known number", treats: .allowed(.seeOther), contact: .forbidden, admin: .forbidden,
            targeted: true
        ) { t in
            Call("/registrer", form: ["identityNumber": t.number, "unit": "5001", "type": "D01", "knownPatient": t.patientId])
        }.answeringWithTheTargetsId().followingTheRedirect(),
        // Not yet confirmed: a number known at the caller's units is announced (200, nothing saved); one known only
        // elsewhere is enrolled as if new, so the answer does not tell that the person is another unit's patient.
        .page(
            .post, "/registrer", "a number not yet confirmed", treats: .inScope(.ok, outside: .seeOther), contact: .forbidden,
            admin: .forbidden, targeted: true
        ) { t in
            Call("/registrer", form: ["identityNumber": t.number, "unit": "5001", "type": "D01"])
        }.answeringWithTheTargetsId().followingTheRedirect(),
        // The caller's own page language: every role may choose it, and it concerns no patient.
        .page(.post, "/sprak", treats: .allowed(.seeOther), contact: .allowed(.seeOther), admin: .allowed(.seeOther)) { _ in
            Call("/sprak", form: ["language": "nb", "tilbake": "/"])
        },
        .page(.post, "/logout", treats: .allowed(.seeOther), contact: .allowed(.seeOther), admin: .allowed(.seeOther)) { _ in
            Call("/logout", form: [:])
        },

        // Public: the same answer for every caller, and no patient's data
        .open(.get, "/health", .ok),
        .open(.get, "/openapi.json", .ok),
        .open(.get, "/metrics", .ok),
        .open(.get, "/tilgjengelighet", .ok),
        .open(.get, "/rettigheter", .ok),
        .open(.get, "/avslatt", .ok),
        .open(.get, "/reservert", .ok),
        .open(.get, "/login", .ok),
        .open(.post, "/login", .unauthorized) { _ in
            Call("/login", form: ["username": "ingen-slik", "password": "ikke det riktige passordet"])
        }
        .after { _ in "/login" },

        // Patient pages, with a link to the target's open baseline: the link decides, whoever else is calling
        .link(.get, "/a/{token}", .ok) { t in Call("/a/\(t.link)") },
        .link(.post, "/a/{token}/start", .seeOther) { t in Call("/a/\(t.link)/start", form: ["respondent": "patient"]) }.after(firstStep),
        .link(.get, "/a/{token}/s/{step}", .ok) { t in Call("/a/\(t.link)/s/1") },
        .link(.post, "/a/{token}/s/{step}", .seeOther) { t in Call("/a/\(t.link)/s/1", form: [:]) }.after(firstStep),
        .link(.get, "/a/{token}/review", .ok) { t in Call("/a/\(t.link)/review") },
        .link(.post, "/a/{token}/submit", .seeOther) { t in Call("/a/\(t.link)/submit", form: [:]) }.after(firstStep),
        .link(.get, "/a/{token}/done", .seeOther) { t in Call("/a/\(t.link)/done") },
        .link(.post, "/a/{token}/verify", .seeOther) { t in Call("/a/\(t.link)/verify", form: [:]) }.after(firstStep),
        // Saying no: without `bekreft=ja` the POST only shows the confirmation page, so the matrix changes nothing.
        .link(.get, "/a/{token}/avsla", .ok) { t in Call("/a/\(t.link)/avsla") },
        .link(.post, "/a/{token}/avsla", .ok) { t in Call("/a/\(t.link)/avsla", form: [:]) }.after(firstStep),
        .link(.get, "/a/{token}/reserver", .ok) { t in Call("/a/\(t.link)/reserver") },
        .link(.post, "/a/{token}/reserver", .ok) { t in Call("/a/\(t.link)/reserver", form: [:]) }.after(firstStep),
    ]

    /// The first questionnaire step: a page with the patient pages' CSRF token in its form.
    static func firstStep(_ target: UnitPatient) -> String { "/a/\(target.link)/s/1" }
}

// MARK: - The policy's vocabulary

extension AuthorizationMatrixTests {
    /// What a role class gets (see `table`).
    enum Outcome: Sendable {
        case allowed(HTTPResponse.Status)
        case forbidden
        case inScope(HTTPResponse.Status, outside: HTTPResponse.Status = .notFound)

        func status(inScope: Bool) -> HTTPResponse.Status {
            switch self {
            case .allowed(let status): status
            case .forbidden: .forbidden
            case .inScope(let status, let outside): inScope ? status : outside
            }
        }
    }

    /// The role classes the table's columns name.
    enum RoleClass: Sendable {
        case treats, contact, admin, system
    }

    struct Columns: Sendable {
        let treats: Outcome
        let contact: Outcome
        let admin: Outcome
        /// The installation token (API only: on the pages it counts as no credentials).
        let system: Outcome

        func outcome(_ role: RoleClass) -> Outcome {
            switch role {
            case .treats: treats
            case .contact: contact
            case .admin: admin
            case .system: system
            }
        }
    }

    enum Policy: Sendable {
        case api(Columns)
        case pages(Columns)
        /// Public: this status for every caller.
        case open(HTTPResponse.Status)
        /// A patient page: this status for every caller; only the link's own patient may show.
        case link(HTTPResponse.Status)
    }

    /// Where the target of a cell is, seen from the unit-scoped callers at 5001.
    enum Target: String, CaseIterable, Sendable {
        case own = "5001"
        case parent = "5000"
        case other = "4208"

        var unit: String { rawValue }
        var label: String {
            switch self {
            case .own: "own unit 5001"
            case .parent: "parent unit 5000"
            case .other: "other unit 4208"
            }
        }
    }

    enum Caller: String, CaseIterable, Sendable {
        case behandler = "behandler@5001"
        case kvarusKontakt = "kvarus-kontakt@5001"
        case registerkontakt = "registerkontakt@5001"
        case parentContact = "registerkontakt@5000"
        case registryAdmin = "registry-admin"
        case system = "installation token"
        case nobody = "no credentials"
        case expired = "expired token / session"
        case stranger = "other issuer's token / forged session"
        case crossed = "session cookie on the API / token on a page"

        /// The local account behind the caller's page session (and its access token's claims), if any.
        var account: (username: String, role: Role, units: [String])? {
            switch self {
            case .behandler: ("behandler", .behandler, ["5001"])
            case .kvarusKontakt: ("kvarus", .kvarusKontakt, ["5001"])
            case .registerkontakt: ("register", .registerkontakt, ["5001"])
            case .parentContact: ("register-hf", .registerkontakt, ["5000"])
            case .registryAdmin: ("admin", .registryAdmin, [])
            case .expired: ("utlopt", .behandler, ["5001"])
            case .crossed: ("kryss", .behandler, ["5001"])
            case .system, .nobody, .stranger: nil
            }
        }

        /// Who the caller counts as on the API; nil: not authenticated.
        var apiRole: RoleClass? {
            switch self {
            case .behandler, .kvarusKontakt: .treats
            case .registerkontakt, .parentContact: .contact
            case .registryAdmin: .admin
            case .system: .system
            case .nobody, .expired, .stranger, .crossed: nil
            }
        }

        /// Who the caller counts as on the clinician pages, where the installation token counts for nothing.
        var pageRole: RoleClass? { apiRole == .system ? nil : apiRole }

        /// Whether the caller's scope covers the unit (every unit for the registry-admin and the installation).
        func covers(_ unit: String) -> Bool {
            switch self {
            case .behandler, .kvarusKontakt, .registerkontakt: unit == "5001"
            case .parentContact: unit == "5000" || unit == "5001"
            case .registryAdmin, .system: true
            case .nobody, .expired, .stranger, .crossed: false
            }
        }

        /// Whether the caller may see this kind of data of a patient in its scope.
        func sees(_ kind: Marker.Kind) -> Bool {
            switch kind {
            case .name, .email: [.behandler, .kvarusKontakt, .system].contains(self)
            case .identityNumber: [.kvarusKontakt, .system].contains(self)
            // Individual responses (and their safety flags) are for the roles that see results.
            case .response: [.behandler, .kvarusKontakt, .system].contains(self)
            case .patientId, .patientPrefix, .course, .invitation, .unitName: true
            }
        }

        var order: Int { Self.allCases.firstIndex(of: self) ?? 0 }
    }

    /// Something of one unit's patient that must not reach a caller without that unit in scope.
    struct Marker: Sendable, CustomStringConvertible {
        enum Kind: String, Sendable {
            case patientId = "patient id"
            case patientPrefix = "patient id prefix"
            case course = "course id"
            case invitation = "invitation id"
            case unitName = "unit name"
            case name
            case email = "e-mail"
            case identityNumber = "identity number"
            case response = "response id"
        }

        let unit: String
        let kind: Kind
        let text: String

        var description: String { "\(unit)'s \(kind.rawValue) '\(text)'" }
    }
}

// MARK: - Rows

extension AuthorizationMatrixTests {
    struct Row: Sendable {
        let method: HTTPRequest.Method
        let path: String
        let label: String?
        let policy: Policy
        /// Run once per target unit; otherwise once (a list, or a path without ids).
        let targeted: Bool
        let call: @Sendable (UnitPatient) -> Call
        /// A page to open first with the caller's credentials (for a form's CSRF token).
        var prelude: (@Sendable (UnitPatient) -> String)?
        /// An API call the installation makes for every target before the cells run.
        var preparation: (@Sendable (UnitPatient) -> Call)?
        /// The answer may carry the target patient's id: enrolling a known number answers with the existing id.
        var answersWithTheTargetsId = false
        /// Follow a 303 to a clinician page and check that page for leaks too.
        var followsRedirect = false

        var route: String { "\(method.rawValue) \(path)" }
        var name: String { label.map { "\(route) [\($0)]" } ?? route }
        var targets: [Target?] { targeted ? Target.allCases : [nil] }
        /// A state-changing call gets a fresh fixture per cell, so that no cell sees another's changes.
        var freshFixturePerCell: Bool { method == .post }
        /// Pages, public routes and patient pages are called as a browser; the API with the API credentials.
        var onPages: Bool {
            if case .api = policy { return false }
            return true
        }

        static func api(
            _ method: HTTPRequest.Method, _ path: String, _ label: String? = nil, treats: Outcome, contact: Outcome,
            admin: Outcome, system: Outcome, targeted: Bool? = nil,
            _ call: (@Sendable (UnitPatient) -> Call)? = nil
        ) -> Row {
            Row(
                method: method, path: path, label: label,
                policy: .api(Columns(treats: treats, contact: contact, admin: admin, system: system)),
                targeted: targeted ?? path.contains("{"), call: call ?? { _ in Call(path) })
        }

        static func page(
            _ method: HTTPRequest.Method, _ path: String, _ label: String? = nil, treats: Outcome, contact: Outcome, admin: Outcome,
            targeted: Bool? = nil, _ call: (@Sendable (UnitPatient) -> Call)? = nil
        ) -> Row {
            Row(
                method: method, path: path, label: label,
                policy: .pages(Columns(treats: treats, contact: contact, admin: admin, system: .forbidden)),
                targeted: targeted ?? path.contains("{"), call: call ?? { _ in Call(path) })
        }

        static func open(
            _ method: HTTPRequest.Method, _ path: String, _ status: HTTPResponse.Status,
            _ call: (@Sendable (UnitPatient) -> Call)? = nil
        ) -> Row {
            Row(method: method, path: path, label: nil, policy: .open(status), targeted: false, call: call ?? { _ in Call(path) })
        }

        static func link(
            _ method: HTTPRequest.Method, _ path: String, _ status: HTTPResponse.Status,
            _ call: @escaping @Sendable (UnitPatient) -> Call
        ) -> Row {
            Row(method: method, path: path, label: nil, policy: .link(status), targeted: true, call: call)
        }

        func after(_ prelude: @escaping @Sendable (UnitPatient) -> String) -> Row {
            var row = self
            row.prelude = prelude
            return row
        }

        func preparedBySystem(_ preparation: @escaping @Sendable (UnitPatient) -> Call) -> Row {
            var row = self
            row.preparation = preparation
            return row
        }

        func answeringWithTheTargetsId() -> Row {
            var row = self
            row.answersWithTheTargetsId = true
            return row
        }

        func followingTheRedirect() -> Row {
            var row = self
            row.followsRedirect = true
            return row
        }

        func expected(_ caller: Caller, _ target: Target?) -> HTTPResponse.Status {
            let inScope = target.map { caller.covers($0.unit) } ?? true
            switch policy {
            case .open(let status), .link(let status):
                return status
            case .api(let columns):
                return role(of: caller).map { columns.outcome($0).status(inScope: inScope) } ?? .unauthorized
            case .pages(let columns):
                return role(of: caller).map { columns.outcome($0).status(inScope: inScope) } ?? .seeOther
            }
        }

        /// Who the caller counts as where this row is; nil: not authenticated there.
        func role(of caller: Caller) -> RoleClass? { onPages ? caller.pageRole : caller.apiRole }

        /// The markers this caller must not get back from this row. What the caller sent itself is exempt.
        func forbidden(_ markers: [Marker], for caller: Caller, target: Target?, sent: String) -> [Marker] {
            markers.filter { marker in
                if sent.contains(marker.text) { return false }
                if answersWithTheTargetsId, marker.unit == target?.unit, [.patientId, .patientPrefix].contains(marker.kind) {
                    return false
                }
                switch policy {
                case .open:
                    return true
                case .link:
                    return marker.unit != target?.unit
                case .api, .pages:
                    return role(of: caller) == nil || !caller.covers(marker.unit) || !caller.sees(marker.kind)
                }
            }
        }

        // MARK: Running the cells

        /// Runs every cell of the row; returns how many cells ran and the failing ones.
        func run(_ tokens: CallerTokens) async throws -> (cells: Int, failures: [Failure]) {
            let cells = targets.flatMap { target in Caller.allCases.map { (caller: $0, target: target) } }
            var failures: [Failure] = []
            if freshFixturePerCell {
                for cell in cells {
                    failures += try await withFixture(for: [cell.caller], tokens) { fixture, client in
                        try await check(cell.caller, cell.target, fixture, client).map { [$0] } ?? []
                    }
                }
            } else {
                failures = try await withFixture(for: Caller.allCases, tokens) { fixture, client in
                    var found: [Failure] = []
                    for cell in cells {
                        if let failure = try await check(cell.caller, cell.target, fixture, client) { found.append(failure) }
                    }
                    return found
                }
            }
            return (cells.count, failures)
        }

        /// A fresh fixture with the callers signed in (and the links issued, for patient pages), then `body`.
        func withFixture(
            for callers: [Caller], _ tokens: CallerTokens,
            _ body: @Sendable (Fixture, any TestClientProtocol) async throws -> [Failure]
        ) async throws -> [Failure] {
            let base = try await Fixture.make(accounts: callers.compactMap(\.account), tokens: tokens)
            let needsLinks = if case .link = policy { true } else { false }
            return try await Application(router: buildRouter(base.app.services)).test(.router) { client in
                var fixture = base
                try await fixture.signIn(callers, tokens, client)
                if needsLinks { try await fixture.issueLinks(client) }
                if let preparation {
                    for patient in fixture.patients.values {
                        _ = try await Credentials(bearer: apiToken).send(.post, preparation(patient), client)
                    }
                }
                return try await body(fixture, client)
            }
        }

        /// One cell: the status the policy gives, and no marker outside the caller's scope in the answer.
        func check(_ caller: Caller, _ target: Target?, _ fixture: Fixture, _ client: some TestClientProtocol) async throws -> Failure? {
            let patient = fixture.patient(target ?? .own)
            var credentials = fixture.credentials(caller, onPages: onPages)
            if let prelude {
                _ = try await credentials.browser.get(client, prelude(patient))
            }
            let request = call(patient)
            let reply = try await credentials.send(method, request, client)
            var seen = reply.text
            if followsRedirect, reply.status == .seeOther, reply.location.hasPrefix("/"), !reply.location.hasPrefix("/login") {
                let page = String(reply.location.prefix { $0 != "#" })
                seen += try await credentials.send(.get, Call(page), client).text
            }
            let status = expected(caller, target)
            let leaked = forbidden(fixture.markers, for: caller, target: target, sent: request.sentText).filter { seen.contains($0.text) }
            guard reply.status != status || !leaked.isEmpty else { return nil }
            return Failure(row: name, caller: caller, target: target, expected: status, got: reply.status, leaked: leaked)
        }
    }
}

// MARK: - Requests and the report

extension AuthorizationMatrixTests {
    /// A request: the path with the target's ids in it and, for POSTs, a JSON body or form fields (the caller's
    /// CSRF token is added to a form).
    struct Call: Sendable {
        var path: String
        var json: String?
        var form: [String: String]?

        init(_ path: String, json: String? = nil, form: [String: String]? = nil) {
            self.path = path
            self.json = json
            self.form = form
        }

        /// What the caller itself sent: echoing it back reveals nothing.
        var sentText: String { ([path, json ?? ""] + (form.map { Array($0.values) } ?? [])).joined(separator: "\n") }
    }

    struct Reply: Sendable {
        let status: HTTPResponse.Status
        let body: String
        let location: String

        var text: String { body + "\n" + location }
    }

    /// What a caller sends: cookies (and the CSRF token of its last page) like a browser, and/or a bearer token.
    struct Credentials: Sendable {
        var browser = Browser()
        var bearer: String?

        func send(_ method: HTTPRequest.Method, _ call: Call, _ client: some TestClientProtocol) async throws -> Reply {
            var headers = HTTPFields()
            if let bearer { headers[.authorization] = "Bearer \(bearer)" }
            if !browser.cookies.isEmpty { headers[.cookie] = browser.cookieHeader }
            var body: ByteBuffer?
            if let json = call.json {
                headers[.contentType] = "application/json"
                body = ByteBuffer(string: json)
            } else if var form = call.form {
                form["csrf"] = browser.csrf
                headers[.contentType] = "application/x-www-form-urlencoded"
                body = ByteBuffer(
                    string: form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
                        .joined(separator: "&"))
            }
            return try await client.execute(uri: call.path, method: method, headers: headers, body: body) { response in
                Reply(status: response.status, body: String(buffer: response.body), location: response.headers[.location] ?? "")
            }
        }
    }

    struct Failure: Sendable {
        let row: String
        let caller: Caller
        let target: Target?
        let expected: HTTPResponse.Status
        let got: HTTPResponse.Status
        let leaked: [Marker]

        var line: String {
            var text = "  \(caller.rawValue) → \(target?.label ?? "no target"): "
            text += expected == got ? "\(got.code) as expected" : "expected \(expected.code), got \(got.code)"
            if !leaked.isEmpty { text += "; leaked " + leaked.map(\.description).joined(separator: ", ") }
            return text
        }

        /// The failures grouped by row, in the table's caller and target order.
        static func report(_ failures: [Failure]) -> String {
            let byRow = Dictionary(grouping: failures, by: \.row)
            return byRow.keys.sorted().map { row in
                let cells = (byRow[row] ?? []).sorted { a, b in
                    (a.caller.order, a.target.map { Target.allCases.firstIndex(of: $0) ?? 0 } ?? 0)
                        < (b.caller.order, b.target.map { Target.allCases.firstIndex(of: $0) ?? 0 } ?? 0)
                }
                return ([row] + cells.map(\.line)).joined(separator: "\n")
            }.joined(separator: "\n")
        }
    }
}

// MARK: - The fixture

extension AuthorizationMatrixTests {
    /// The patient at one unit: a course with an answered baseline, one with an open (invited) baseline and one whose
    /// baseline expired (on the follow-up list); perhaps also an answered course at another unit.
    struct UnitPatient: Sendable {
        let unit: String
        let unitName: String
        let name: String
        let email: String
        let number: String
        let patientId: String
        let answeredCourse: String
        let openCourse: String
        let expiredCourse: String
        let answeredInvitation: String
        let openInvitation: String
        let expiredInvitation: String
        /// Courses (with an answered baseline) at other units: their ids belong to those units.
        var coursesElsewhere: [(unit: String, course: String, invitation: String)] = []
        /// The open invitation's link token (`/a/{token}`), issued through the API for the rows that need it.
        var link = ""
        /// A response of the answered baseline whose answers (the worst EQ-5D anxiety, RAND-36's mood items) raised a
        /// safety flag.
        var flaggedResponse = ""

        var markers: [Marker] {
            let texts: [(Marker.Kind, String)] = [
                (.patientId, patientId), (.patientPrefix, String(patientId.prefix(8))), (.unitName, unitName), (.name, name),
                (.email, email),
                (.identityNumber, number), (.identityNumber, "\(number.prefix(6)) \(number.suffix(5))"),
                (.course, answeredCourse), (.course, openCourse), (.course, expiredCourse),
                (.invitation, answeredInvitation), (.invitation, openInvitation), (.invitation, expiredInvitation),
            ]
            return (texts + [(.response, flaggedResponse)]).map { Marker(unit: unit, kind: $0.0, text: $0.1) }
                + coursesElsewhere.flatMap {
                    [
                        Marker(unit: $0.unit, kind: .course, text: $0.course),
                        Marker(unit: $0.unit, kind: .invitation, text: $0.invitation),
                    ]
                }
        }
    }

    /// Access tokens for the callers that have one, signed by the issuer the app trusts.
    struct CallerTokens: Sendable {
        let verifier: AccessTokens
        let byCaller: [Caller: String]

        static func make() async throws -> CallerTokens {
            let issuer = try await TokenIssuer.make()
            let later = Date().addingTimeInterval(3 * 3600)
            var tokens: [Caller: String] = [:]
            for caller in [Caller.behandler, .kvarusKontakt, .registerkontakt, .parentContact, .registryAdmin] {
                guard let account = caller.account else { continue }
                tokens[caller] = try await issuer.token(role: account.role.rawValue, units: account.units, expires: later)
            }
            tokens[.expired] = try await issuer.token(role: "behandler", units: ["5001"], expires: Date().addingTimeInterval(-60))
            tokens[.stranger] = try await issuer.token(role: "behandler", units: ["5001"], issuer: "https://other.test", expires: later)
            return CallerTokens(verifier: try await issuer.verifier(), byCaller: tokens)
        }
    }

    struct Fixture: Sendable {
        static let password = "matrix password 4 tests"
        /// The units and their patients. The 5001 patient was also treated at 4208: the unit-scoped callers at 5001
        /// must see his courses and results at 5001 only.
        static let people: [(unit: String, parent: String?, unitName: String, name: String, email: String, number: Int, alsoAt: String?)] =
            [
                ("4208", nil, "Klinikk Fjerdetusen", "Ola Fjerdetusen", "ola.fjerdetusen@example.no", 21, nil),
                ("5000", nil, "Helseforetak Femtusen", "Kari Femtusen", "kari.femtusen@example.no", 22, nil),
                ("5001", "5000", "Avdeling Femtusenogen", "Per Femtusenogen", "per.femtusenogen@example.no", 23, "4208"),
            ]

        let app: TestApp
        let clock: TestClock
        /// By unit.
        var patients: [String: UnitPatient]
        /// Each account's TOTP secret: every account has TOTP, so logins work whichever roles must have it.
        let totpSecrets: [String: String]
        var api: [Caller: Credentials] = [:]
        var pages: [Caller: Credentials] = [:]

        var markers: [Marker] { patients.values.flatMap(\.markers) }

        func patient(_ target: Target) -> UnitPatient {
            guard let patient = patients[target.unit] else { fatalError("the fixture has every target unit") }
            return patient
        }

        func credentials(_ caller: Caller, onPages: Bool) -> Credentials {
            (onPages ? pages[caller] : api[caller]) ?? Credentials()
        }

        /// The three units, a patient with three courses at each (and the 5001 patient's course at 4208), the scheduler
        /// run at the fixture time, the baselines answered; and the accounts asked for.
        static func make(accounts: [(username: String, role: Role, units: [String])], tokens: CallerTokens) async throws -> Fixture {
            let clock = TestClock()
            let app = try await TestApp.make(clock: clock, accessTokens: tokens.verifier)
            for person in people {
                try await app.store.createUnit(
                    Unit(resh: person.unit, name: person.unitName, parent: person.parent), actor: "test", at: fixedNow)
            }
            var patients: [String: UnitPatient] = [:]
            for person in people {
                guard
                    case .created(let patientId) = try await app.services.enrolment.enrol(
                        .init(identityNumber: synthetic(person.number), name: person.name, email: person.email), actor: "test", at: fixedNow
                    )
                else {
                    throw SetupError("\(person.name) was already enrolled")
                }
                let answered = try await startCourse(app, patientId: patientId, unit: person.unit, on: "2026-11-21")
                let open = try await startCourse(app, patientId: patientId, unit: person.unit, on: "2026-11-21")
                let expired = try await startCourse(app, patientId: patientId, unit: person.unit, on: "2026-10-01")
                patients[person.unit] = UnitPatient(
                    unit: person.unit, unitName: person.unitName, name: person.name, email: person.email, number: synthetic(person.number),
                    patientId: patientId, answeredCourse: answered.course, openCourse: open.course, expiredCourse: expired.course,
                    answeredInvitation: answered.invitation, openInvitation: open.invitation, expiredInvitation: expired.invitation)
                if let unit = person.alsoAt {
                    let elsewhere = try await startCourse(app, patientId: patientId, unit: unit, on: "2026-11-21")
                    patients[person.unit]?.coursesElsewhere.append((unit, elsewhere.course, elsewhere.invitation))
                }
            }
            _ = try await SchedulerPass(store: app.store, scheduleProtocol: app.scheduleProtocol).run(now: fixedNow)
            for (unit, patient) in patients {
                try await ClinicianFixture.answerBaseline(app, invitationId: patient.answeredInvitation, choosing: ["AD": 5])
                for invitation in patient.coursesElsewhere.map(\.invitation) {
                    try await answerBaseline(app, invitationId: invitation)
                }
                let flags = try await app.store.safetyFlags(in: .everyUnit, patientId: patient.patientId, unseenOnly: true)
                guard let flag = flags.first(where: { $0.invitationId == patient.answeredInvitation }) else {
                    throw SetupError("the worst anxiety answer at \(unit) raised no safety flag")
                }
                patients[unit]?.flaggedResponse = flag.responseId
            }
            let registry = TestApp.accounts(app.store, app.services.vault)
            var secrets: [String: String] = [:]
            for account in accounts {
                let url = try await whileHashingIsBusy {
                    try await registry.add(
                        username: account.username, password: password, role: account.role, units: account.units,
                        totp: true, actor: "test", at: fixedNow)
                }
                secrets[account.username] = try totpSecret(fromAuthenticatorURL: url ?? "")
            }
            return Fixture(app: app, clock: clock, patients: patients, totpSecrets: secrets)
        }

        /// A D01 course with its start event; returns it with the baseline invitation the start planned.
        static func startCourse(_ app: TestApp, patientId: String, unit: String, on date: String) async throws -> (
            course: String, invitation: String
        ) {
            let courseId = UUID().uuidString.lowercased()
            try await app.store.createCourse(
                NewCourse(id: courseId, patientId: patientId, unit: unit, type: .D01), actor: "test", at: fixedNow)
            let course = try await app.services.pathways.record(
                courseId: courseId, type: .start, date: LocalDate(iso: date)!, unit: nil,
                nprCode: nil, actor: "test", at: fixedNow)
            guard let invitation = course.invitations.first?.id else { throw SetupError("the start on \(date) planned no baseline") }
            return (courseId, invitation)
        }

        /// Answers the baseline as ClinicianFixture does.
        static func answerBaseline(_ app: TestApp, invitationId: String) async throws {
            try await ClinicianFixture.answerBaseline(app, invitationId: invitationId)
        }

        /// Gives each caller its API and page credentials; sessions are made through the login form.
        mutating func signIn(_ callers: [Caller], _ tokens: CallerTokens, _ client: some TestClientProtocol) async throws {
            for caller in callers {
                switch caller {
                case .behandler, .kvarusKontakt, .registerkontakt, .parentContact, .registryAdmin:
                    api[caller] = Credentials(bearer: tokens.byCaller[caller])
                    pages[caller] = Credentials(browser: try await session(caller, at: fixedNow, client))
                case .system:
                    api[caller] = Credentials(bearer: apiToken)
                    pages[caller] = Credentials(bearer: apiToken)
                case .nobody:
                    break
                case .expired:
                    // Signed in an hour before the fixture time and idle since: past the 30-minute idle limit.
                    api[caller] = Credentials(bearer: tokens.byCaller[caller])
                    pages[caller] = Credentials(browser: try await session(caller, at: fixedNow.addingTimeInterval(-3600), client))
                case .stranger:
                    api[caller] = Credentials(bearer: tokens.byCaller[caller])
                    pages[caller] = Credentials(
                        browser: Browser(cookies: ["svar_session": "Zm9yZ2VkLXNlc3Npb24tdG9rZW4tdGhhdC1uZXZlci13YXM"]))
                case .crossed:
                    api[caller] = Credentials(browser: try await session(caller, at: fixedNow, client))
                    pages[caller] = Credentials(bearer: tokens.byCaller[.behandler])
                }
            }
        }

        /// Logs the caller's account in at `time` with its TOTP code; the browser keeps the session and its CSRF token.
        func session(_ caller: Caller, at time: Date, _ client: some TestClientProtocol) async throws -> Browser {
            guard let username = caller.account?.username, let secret = totpSecrets[username] else {
                throw SetupError("no account for \(caller.rawValue)")
            }
            clock.now = time
            defer { clock.now = fixedNow }
            var browser = Browser()
            let code = String(format: "%06d", TOTP(secret: secret).compute(date: time))
            let login = try await browser.login(client, username, Self.password, code: code)
            guard login.status == .seeOther else { throw SetupError("the login of \(username) answered \(login.status.code)") }
            if time == fixedNow { _ = try await browser.get(client, "/") }
            return browser
        }

        /// Issues a link to each target's open invitation with the installation token.
        mutating func issueLinks(_ client: some TestClientProtocol) async throws {
            for (unit, patient) in patients {
                let reply = try await client.api(.post, "/api/v1/invitations/\(patient.openInvitation)/link")
                guard let url = reply.json["url"]?.stringValue, let token = url.split(separator: "/").last else {
                    throw SetupError("no link for \(unit): \(reply.status.code) \(reply.json.serialized)")
                }
                patients[unit]?.link = String(token)
            }
        }

        /// The secret `ClinicianAccounts.add` put in its otpauth:// URL (Base32 of the secret's text).
        static func totpSecret(fromAuthenticatorURL url: String) throws -> String {
            guard let encoded = URLComponents(string: url)?.queryItems?.first(where: { $0.name == "secret" })?.value else {
                throw SetupError("no secret in '\(url)'")
            }
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
            var bits = 0
            var buffer = 0
            var bytes: [UInt8] = []
            for character in encoded.uppercased() where character != "=" {
                guard let index = alphabet.firstIndex(of: character) else { throw SetupError("not Base32: '\(encoded)'") }
                buffer = ((buffer << 5) | index) & 0xFFFF
                bits += 5
                if bits >= 8 {
                    bits -= 8
                    bytes.append(UInt8((buffer >> bits) & 0xFF))
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    struct SetupError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
