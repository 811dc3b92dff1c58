import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdOTP
import HummingbirdTesting
import SvarDomain
import SvarInstruments
import SvarServices
import SvarStore
import SvarTestSupport
import Testing

/// Issue #7: login, sessions, lockout, TOTP, roles, and the clinician pages.
@Suite struct ClinicianLoginTests {
    @Test(arguments: StoreKind.engines)
    func theLoginFormLeadsToTheStartPageWithAStrictSessionCookie(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        try await f.app.application.test(.router) { client in
            var browser = Browser()
            let unauthenticated = try await browser.get(client, "/")
            #expect(unauthenticated.status == .seeOther && unauthenticated.headers[.location] == "/login")
            let form = try await browser.get(client, "/login")
            #expect(form.status == .ok && form.body.contains(#"name="username""#) && form.body.contains(#"name="password""#))
            let login = try await browser.post(client, "/login", ["username": "kari", "password": ClinicianFixture.password])
            #expect(login.status == .seeOther && login.headers[.location] == "/")
            let cookie = try #require(login.headers[values: .setCookie].first { $0.hasPrefix("svar_session=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("Secure") && cookie.contains("SameSite=Strict"), "\(cookie)")
            let start = try await browser.get(client, "/")
            #expect(
                start.status == .ok && start.body.contains("Poliklinikk Nord (4208)") && start.body.contains(String(f.patientId.prefix(8))))
            // Started on the start event's date (21 November), not on the day the course was registered (22 November).
            #expect(start.body.contains("<td>21. november 2026</td>") && !start.body.contains("<td>22. november 2026</td>"))
            #expect(try await f.app.store.auditEntries(subject: "kari").contains { $0.action == "user.login" })
            let logout = try await browser.post(client, "/logout", [:])
            #expect(logout.status == .seeOther)
            let reply1 = try await browser.get(client, "/")
            #expect(reply1.status == .seeOther, "the session ended with the logout")
        }
    }

    @Test(arguments: StoreKind.engines)
    func aLoginReturnsToThePageAskedForButNeverToAnotherSite(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        try await f.app.application.test(.router) { client in
            var browser = Browser()
            _ = try await browser.get(client, "/login?neste=/oppfolging")
            var login = try await browser.post(
                client, "/login?neste=/oppfolging", ["username": "kari", "password": ClinicianFixture.password])
            #expect(login.headers[.location] == "/oppfolging")
            login = try await browser.post(
                client, "/login?neste=//evil.example/x", ["username": "kari", "password": ClinicianFixture.password])
            #expect(login.headers[.location] == "/")
        }
    }

    @Test(arguments: StoreKind.engines)
    func wrongPasswordsLockTheNameAndUnknownNamesGetTheSameAnswer(_ kind: StoreKind) async throws {
        let clock = TestClock()
        let f = try await ClinicianFixture.make(kind, clock: clock)
        try await f.app.application.test(.router) { client in
            var browser = Browser()
            var answers: [String: [(status: HTTPResponse.Status, body: String)]] = [:]
            for name in ["kari", "nobody"] {
                for _ in 0..<5 {
                    let reply = try await browser.login(client, name, "not the password")
                    answers[name, default: []].append((reply.status, reply.body.replacingOccurrences(of: name, with: "NAME")))
                }
            }
            for name in ["kari", "nobody"] {
                #expect(
                    answers[name]?.map(\.status) == [.unauthorized, .unauthorized, .unauthorized, .unauthorized, .tooManyRequests],
                    "\(name)")
                #expect(answers[name]?.first?.body.contains("Feil brukernavn, passord eller kode.") == true)
            }
            #expect(answers["kari"]?.last?.body == answers["nobody"]?.last?.body, "a locked account and an unknown name look the same")
            let reply2 = try await browser.login(client, "kari")
            #expect(reply2.status == .tooManyRequests, "locked even with the right password")
            #expect(try await f.app.store.auditEntries(subject: "kari").contains { $0.action == "login.locked" })
            clock.now = fixedNow.addingTimeInterval(16 * 60)
            let reply3 = try await browser.login(client, "kari")
            #expect(reply3.status == .seeOther, "the lock ends after 15 minutes")
        }
    }

    @Test(arguments: StoreKind.engines)
    func anIdleSessionEndsAndADisabledAccountCannotGoOn(_ kind: StoreKind) async throws {
        let clock = TestClock()
        let f = try await ClinicianFixture.make(kind, clock: clock)
        try await f.app.application.test(.router) { client in
            var browser = Browser()
            _ = try await browser.login(client, "kari")
            clock.now = fixedNow.addingTimeInterval(29 * 60)
            let reply4 = try await browser.get(client, "/")
            #expect(reply4.status == .ok)
            clock.now = fixedNow.addingTimeInterval(29 * 60 + 31 * 60)
            let reply5 = try await browser.get(client, "/")
            #expect(reply5.status == .seeOther, "31 minutes idle end the session")
            _ = try await browser.login(client, "kari")
            let reply6 = try await browser.get(client, "/")
            #expect(reply6.status == .ok)
            try await f.app.store.disableUser(username: "kari", actor: "test", at: clock.now)
            let reply7 = try await browser.get(client, "/")
            #expect(reply7.status == .seeOther)
            let reply8 = try await browser.login(client, "kari")
            #expect(reply8.status == .unauthorized)
        }
    }

    @Test(arguments: StoreKind.engines)
    func formsWithoutTheSessionsCSRFTokenAreRefused(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        try await f.app.application.test(.router) { client in
            var browser = Browser()
            _ = try await browser.login(client, "kari")
            _ = try await browser.get(client, "/registrer")
            let forged = try await browser.post(client, "/registrer", ["identityNumber": synthetic(9), "unit": "4208"], csrf: false)
            #expect(forged.status == .forbidden)
            // A different first character, whatever the token was (replacing it with a fixed one is a no-op now and then).
            browser.csrf = (browser.csrf.first == "x" ? "y" : "x") + browser.csrf.dropFirst()
            let reply9 = try await browser.post(client, "/oppfolging/\(f.invitationId)/kontaktet", [:])
            #expect(reply9.status == .forbidden)
            var anonymous = Browser()
            _ = try await anonymous.get(client, "/login")
            #expect(
                try await anonymous.post(client, "/login", ["username": "kari", "password": ClinicianFixture.password], csrf: false).status
                    == .forbidden)
        }
    }

    @Test(arguments: StoreKind.engines)
    func anAccountWithTOTPNeedsTheCurrentCode(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        let url = try #require(
            try await TestApp.accounts(f.app.store, f.app.services.vault)
                .add(
                    username: "totp", password: ClinicianFixture.password, role: .behandler, units: ["4208"], totp: true, actor: "test",
                    at: fixedNow))
        #expect(url.hasPrefix("otpauth://totp/"))
        let user = try #require(try await f.app.store.user("totp"))
        let secret = try f.app.services.vault.openSecret(try #require(user.totpSecret), context: "totp:totp")
        let code = String(format: "%06d", TOTP(secret: secret).compute(date: fixedNow))
        try await f.app.application.test(.router) { client in
            var browser = Browser()
            let reply10 = try await browser.login(client, "totp")
            #expect(reply10.status == .unauthorized, "no code")
            let reply11 = try await browser.login(client, "totp", code: code == "000000" ? "111111" : "000000")
            #expect(reply11.status == .unauthorized)
            let reply12 = try await browser.login(client, "totp", code: code)
            #expect(reply12.status == .seeOther)
            var eavesdropper = Browser()
            let replayed = try await eavesdropper.login(client, "totp", code: code)
            #expect(replayed.status == .unauthorized, "a code is accepted once per time step")
        }
    }

    /// `SVAR_REQUIRE_TOTP`: a role that sees identity numbers cannot sign in on a password alone; once the
    /// account has TOTP, each time step's code is good for one login, even when tried in parallel.
    @Test(arguments: StoreKind.engines)
    func rolesThatRequireTOTPCannotSignInWithoutItAndACodeWorksOnce(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        let accounts = {
            var accounts = TestApp.accounts(f.app.store, f.app.services.vault)
            accounts.rolesRequiringTOTP = [.kvarusKontakt, .registryAdmin]
            return accounts
        }()
        #expect(
            try await accounts.login(username: "kontakt", password: ClinicianFixture.password, code: nil, now: fixedNow)
                == .secondFactorRequired)
        #expect(
            try await accounts.login(username: "kari", password: ClinicianFixture.password, code: nil, now: fixedNow) != .refused,
            "a behandler is not required to")
        #expect(try await accounts.enableTOTP(username: "kontakt", actor: "test", at: fixedNow).hasPrefix("otpauth://totp/kontakt?secret="))
        let sealed = try #require(try await f.app.store.user("kontakt")?.totpSecret)
        let secret = try f.app.services.vault.openSecret(sealed, context: "totp:kontakt")
        let now = fixedNow.addingTimeInterval(60)
        let code = String(format: "%06d", TOTP(secret: secret).compute(date: now))
        let outcomes = try await withThrowingTaskGroup(of: ClinicianAccounts.LoginOutcome.self) { group in
            for _ in 0..<4 {
                group.addTask { try await accounts.login(username: "kontakt", password: ClinicianFixture.password, code: code, now: now) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter { if case .signedIn = $0 { return true } else { return false } }.count == 1, "\(outcomes)")
        #expect(try await accounts.login(username: "kontakt", password: ClinicianFixture.password, code: code, now: now) == .refused)
    }

    /// Parallel guesses cannot pass the lock: the check and the count are one transaction, before hashing.
    @Test(arguments: StoreKind.engines)
    func parallelGuessesStopAtTheLock(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        let accounts = TestApp.accounts(f.app.store, f.app.services.vault)
        for name in ["kari", "nobody"] {
            let outcomes = try await withThrowingTaskGroup(of: ClinicianAccounts.LoginOutcome.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await accounts.login(username: name, password: "wrong password!", code: nil, now: fixedNow) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .refused }.count == 4 && outcomes.filter { $0 == .locked }.count == 16, "\(name): \(outcomes)")
        }
    }

    /// One client failing with many names is stopped before any password is hashed.
    @Test(arguments: StoreKind.engines)
    func oneClientTryingManyNamesIsThrottled(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        try await f.app.application.test(.router) { client in
            var browser = Browser()
            for i in 0..<20 { _ = try await browser.login(client, "guess\(i)", "not the password") }
            let next = try await browser.login(client, "kari")
            #expect(next.status == .tooManyRequests, "the client has used up its failures")
        }
    }

    @Test(arguments: StoreKind.engines)
    func accountsAreCheckedBeforeTheyAreMade(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        let accounts = TestApp.accounts(f.app.store, f.app.services.vault)
        let cases: [(String, String, Role, [String], String)] = [
            ("a", ClinicianFixture.password, .behandler, ["4208"], "username"),
            ("ny", "short", .behandler, ["4208"], "password"),
            ("ny", ClinicianFixture.password, .behandler, [], "unit"),
            ("ny", ClinicianFixture.password, .behandler, ["9999"], "unit"),
            ("kari", ClinicianFixture.password, .behandler, ["4208"], "username"),
        ]
        for (username, password, role, units, field) in cases {
            do {
                _ = try await accounts.add(
                    username: username, password: password, role: role, units: units, totp: false, actor: "t", at: fixedNow)
                Issue.record("\(username) was accepted")
            } catch let error as ClinicianAccounts.AccountError {
                #expect(error.field == field, "\(username): \(error)")
            }
        }
        let stored = try #require(try await f.app.store.user("kari"))
        #expect(
            stored.passwordHash.hasPrefix("$2") && !stored.passwordHash.contains(ClinicianFixture.password), "bcrypt, never the password")
    }
}

@Suite struct ClinicianScopeTests {
    /// Every clinician page and form, as a user of another unit: 403/404 (or a list without the patient), never data.
    @Test(arguments: StoreKind.engines)
    func aClinicianOfAnotherUnitGetsNothingFromAnyPage(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        let short = String(f.patientId.prefix(8))
        try await f.app.application.test(.router) { client in
            var other = Browser()
            _ = try await other.login(client, "other")
            for page in ["/", "/invitasjoner", "/oppfolging", "/oversikt", "/registrer"] {
                let reply = try await other.get(client, page)
                #expect(reply.status == .ok, "\(page)")
                #expect(
                    !reply.body.contains(short) && !reply.body.contains(ClinicianFixture.name) && !reply.body.contains("4208"),
                    "\(page) shows data")
            }
            let patient = try await other.get(client, "/pasient/\(f.patientId)")
            #expect(patient.status == .notFound && !patient.body.contains(ClinicianFixture.name))
            let reply13 = try await other.post(client, "/forlop/\(f.courseId)/hendelse", ["type": "evaluation", "date": "2026-11-22"])
            #expect(reply13.status == .notFound)
            let reply14 = try await other.post(client, "/oppfolging/\(f.invitationId)/kontaktet", [:])
            #expect(reply14.status == .notFound)
            let enrol = try await other.post(client, "/registrer", ["identityNumber": synthetic(8), "unit": "4208"])
            #expect(enrol.status == .unprocessableContent, "a unit outside one's own is refused")
            #expect(try await f.app.store.course(f.courseId)?.events.count == 1, "nothing was recorded")
        }
    }

    @Test(arguments: StoreKind.engines)
    func namesAreShownOnlyToRolesThatNeedThemAndEveryViewIsAudited(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        let number = synthetic(1)
        try await f.app.application.test(.router) { client in
            var kari = Browser()
            _ = try await kari.login(client, "kari")
            let page = try await kari.get(client, "/pasient/\(f.patientId)")
            #expect(
                page.status == .ok && page.body.contains(ClinicianFixture.name) && !page.body.contains(number),
                "a behandler sees the name, not the number")
            #expect(page.body.contains("<svg") && page.body.contains("RAND-36") && page.body.contains("EQ-5D"), "charts are on the page")
            var contact = Browser()
            _ = try await contact.login(client, "kontakt")
            #expect(try await contact.get(client, "/pasient/\(f.patientId)").body.contains(number), "the Kvarus contact sees the number")
            var entity = Browser()
            _ = try await entity.login(client, "entity-a")
            let denied = try await entity.get(client, "/pasient/\(f.patientId)")
            #expect(denied.status == .forbidden && !denied.body.contains(ClinicianFixture.name))
            #expect(
                try await entity.get(client, "/oversikt").body.contains("Poliklinikk Nord"), "the registry contact sees the unit's figures")
            var admin = Browser()
            _ = try await admin.login(client, "admin")
            let reply15 = try await admin.get(client, "/pasient/\(f.patientId)")
            #expect(reply15.status == .forbidden)
        }
        let reads = try await f.app.store.auditEntries(subject: f.patientId).filter { $0.action == "identity.read" }
        #expect(Set(reads.map(\.actor)) == ["kari", "kontakt"] && reads.allSatisfy { $0.detail == "clinician page" })
    }

    @Test(arguments: StoreKind.engines)
    func aRegistryContactSeesTheUnitsBelowTheirOwn(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        let user = try #require(try await f.app.store.user("entity"))
        #expect(try await f.app.store.unitsInScope(of: user) == ["5000", "5001"])
        let kari = try #require(try await f.app.store.user("kari"))
        #expect(try await f.app.store.unitsInScope(of: kari) == ["4208"], "a behandler's scope is exactly their units")
    }

    /// Every API operation with an access token of another unit's clinician: 403/404 and no data.
    @Test(arguments: StoreKind.engines)
    func everyAPIOperationIsScopedForAccessTokens(_ kind: StoreKind) async throws {
        let issuer = try await TokenIssuer.make()
        let f = try await ClinicianFixture.make(kind, accessTokens: try await issuer.verifier())
        let other = try await issuer.token(role: "behandler", units: ["5000"])
        let own = try await issuer.token(role: "behandler", units: ["4208"])
        let admin = try await issuer.token(role: "registry-admin", units: [])
        try await f.app.application.test(.router) { client in
            let p = f.patientId
            let c = f.courseId
            let i = f.invitationId
            let calls: [(HTTPRequest.Method, String, String?, HTTPResponse.Status)] = [
                (.get, "/api/v1/courses/\(c)", nil, .notFound),
                (.post, "/api/v1/courses/\(c)/events", #"{"type":"evaluation","date":"2026-11-22"}"#, .notFound),
                (.post, "/api/v1/invitations/\(i)/link", nil, .notFound),
                (.get, "/api/v1/patients/\(p)/results", nil, .notFound),
                (.post, "/api/v1/patients/\(p)/reservation", nil, .notFound),
                // The registry-wide erasure is for registry staff only, whatever the unit.
                (.post, "/api/v1/patients/\(p)/deletion-request", nil, .forbidden),
                (.get, "/api/v1/patients/\(p)/deletion-request", nil, .forbidden),
                (.post, "/api/v1/patients/\(p)/courses", #"{"unit":"4208"}"#, .forbidden),
                (.post, "/api/v1/units", #"{"resh":"7000","name":"Ny"}"#, .forbidden),
                (.get, "/api/v1/forwarding/failed", nil, .forbidden),
                (.post, "/api/v1/forwarding/x/retry", nil, .forbidden),
                (.get, "/api/v1/disclosures", nil, .forbidden),
            ]
            for (method, uri, body, expected) in calls {
                let reply = try await client.api(method, uri, body, token: other)
                #expect(reply.status == expected, "\(method) \(uri): \(reply.status)")
                let text = reply.json.serialized
                #expect(reply.headers[.contentType] == "application/problem+json", "\(uri)")
                #expect(
                    !text.contains(ClinicianFixture.name) && !text.contains("\"events\"") && !text.contains("\"scores\"")
                        && !text.contains("\"url\""), "\(uri) leaks data: \(text)")
            }
            #expect(try await client.api(.get, "/api/v1/units", token: other).json.serialized.contains("4208") == false)
            #expect(try await client.api(.get, "/api/v1/unreachable", token: other).json == .array([]))
            #expect(try await client.api(.get, "/api/v1/nudges", token: other).json == .array([]))
            #expect(try await f.app.store.patient(p)?.isReserved == false, "nothing was changed")
            // The own unit's clinician gets the data, and the registry admin its lists.
            let results = try await client.api(.get, "/api/v1/patients/\(p)/results", token: own)
            guard case .array(let list) = results.json else {
                Issue.record("\(results.json)")
                return
            }
            #expect(results.status == .ok && list.count == 2 && list.allSatisfy { $0["unit"] == .string("4208") })
            #expect(try await client.api(.get, "/api/v1/courses/\(c)", token: own).status == .ok)
            #expect(try await client.api(.get, "/api/v1/disclosures", token: admin).status == .ok)
        }
    }

    /// A unit that enrols a number already known elsewhere cannot tell it is known, and once it starts its own
    /// course it sees only what its own units record — never the other unit's answers.
    @Test(arguments: StoreKind.engines)
    func aUnitTakingOverAKnownPatientSeesOnlyItsOwnCourses(_ kind: StoreKind) async throws {
        let issuer = try await TokenIssuer.make()
        let f = try await ClinicianFixture.make(kind, accessTokens: try await issuer.verifier())
        let other = try await issuer.token(role: "behandler", units: ["5000"])
        try await f.app.application.test(.router) { client in
            let known = try await client.api(.post, "/api/v1/patients", #"{"identityNumber":"\#(synthetic(1))"}"#, token: other)
            let fresh = try await client.api(.post, "/api/v1/patients", #"{"identityNumber":"\#(synthetic(2))"}"#, token: other)
            #expect(known.status == .created && fresh.status == .created, "the same answer for a known and a new number")
            #expect(known.json.serialized.count == fresh.json.serialized.count, "the same shape: \(known.json) / \(fresh.json)")
            let id = try #require(known.json["id"]?.stringValue)
            #expect(
                try await client.api(.get, "/api/v1/patients/\(id)/results", token: other).status == .notFound,
                "no course of theirs yet: the patient is not in their scope")
            #expect(try await client.api(.post, "/api/v1/patients/\(id)/courses", #"{"unit":"5000"}"#, token: other).status == .created)
            let results = try await client.api(.get, "/api/v1/patients/\(id)/results", token: other)
            #expect(results.status == .ok && results.json == .array([]), "unit 4208's answers stay with unit 4208: \(results.json)")
            let reserved = try await client.api(.post, "/api/v1/patients/\(id)/reservation", token: other)
            #expect(reserved.json["cancelledInvitations"] == .int(0), "only invitations of the caller's units are counted")
            #expect(try await client.api(.post, "/api/v1/patients/\(id)/deletion-request", token: other).status == .forbidden)
        }
        #expect(try await f.app.store.patient(f.patientId)?.isReserved == true, "the reservation is the patient's and applies everywhere")
    }

    /// Scope by construction: in the web layer only `Access` makes a `Scope` or calls the store's reads of patient
    /// data, so a route cannot ask for them without the caller's units.
    @Test func onlyTheAccessLayerMakesScopesOrReadsPatientData() throws {
        let web = sourceInstruments.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("SvarWeb")
        let files = try FileManager.default.contentsOfDirectory(atPath: web.path).filter { $0.hasSuffix(".swift") && $0 != "Access.swift" }
        #expect(files.count > 10)
        let forbidden = [
            ".everyUnit", ".only(", "Scope.", "store.results(", "store.courses(patientId", "store.readIdentity(", "store.courseSummaries(",
            "store.invitationSummaries(", "store.nudges(", "store.unreachableInvitations(", "store.reserve(", "store.statisticsInput(",
        ]
        for file in files {
            let text = try String(contentsOf: web.appendingPathComponent(file), encoding: .utf8)
            for word in forbidden { #expect(!text.contains(word), "\(file) uses \(word): go through Access") }
        }
    }

    @Test(arguments: StoreKind.engines)
    func accessTokensAreCheckedForSignatureIssuerAudienceExpiryAndRole(_ kind: StoreKind) async throws {
        let issuer = try await TokenIssuer.make()
        let stranger = try await TokenIssuer.make()
        let f = try await ClinicianFixture.make(kind, accessTokens: try await issuer.verifier())
        try await f.app.application.test(.router) { client in
            let bad = [
                try await stranger.token(role: "behandler", units: ["4208"]),
                try await issuer.token(role: "behandler", units: ["4208"], issuer: "https://other.test"),
                try await issuer.token(role: "behandler", units: ["4208"], audience: "other"),
                try await issuer.token(role: "behandler", units: ["4208"], expires: Date().addingTimeInterval(-60)),
                try await issuer.token(role: "chief", units: ["4208"]),
                try await issuer.token(role: nil, units: ["4208"]),
                "not.a.token",
            ]
            for token in bad {
                let reply = try await client.api(.get, "/api/v1/courses/\(f.courseId)", token: token)
                #expect(reply.status == .unauthorized && reply.headers[.contentType] == "application/problem+json")
            }
            #expect(
                try await client.api(.get, "/api/v1/courses/\(f.courseId)", token: apiToken).status == .ok,
                "the installation token still works")
        }
    }
}

@Suite struct ClinicianPageTests {
    @Test(arguments: StoreKind.engines)
    func aClinicianEnrolsAPatientAndRecordsAnEvent(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        try await f.app.application.test(.router) { client in
            var kari = Browser()
            _ = try await kari.login(client, "kari")
            _ = try await kari.get(client, "/registrer")
            let refused = try await kari.post(client, "/registrer", ["identityNumber": "123", "unit": "4208"])
            #expect(
                refused.status == .unprocessableContent && refused.body.contains("Fødselsnummer")
                    && refused.body.contains(#"aria-invalid="true""#))
            let done = try await kari.post(
                client, "/registrer",
                [
                    "identityNumber": synthetic(7), "name": "Ola Ny", "unit": "4208", "type": "D01",
                    "startDate": "2026-11-22", "language": "nn",
                ])
            #expect(done.status == .seeOther)
            let location = try #require(done.headers[.location])
            let page = try await kari.get(client, String(location.split(separator: "#")[0]))
            #expect(
                page.status == .ok && page.body.contains("Ola Ny") && page.body.contains("Oppstart"),
                "the start event scheduled the baseline")
            let courseId = String(location.split(separator: "#")[1].dropFirst("forlop-".count))
            let event = try await kari.post(client, "/forlop/\(courseId)/hendelse", ["type": "firstAttendance", "date": "2026-11-22"])
            #expect(event.status == .seeOther)
            #expect(try await f.app.store.course(courseId)?.events.map(\.type) == [.start, .firstAttendance])
            let invalid = try await kari.post(client, "/forlop/\(courseId)/hendelse", ["type": "firstAttendance", "date": "22.11.2026"])
            #expect(invalid.status == .unprocessableContent && invalid.body.contains("ÅÅÅÅ-MM-DD"))
        }
    }

    /// The dashboard follows `svar report`'s small-cell rule: a handful of invitations is shown as "<5", and no
    /// response rate rests on fewer than five answers.
    @Test(arguments: StoreKind.engines)
    func theDashboardHidesSmallCellsAsTheReportDoes(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        try await f.app.application.test(.router) { client in
            var kari = Browser()
            _ = try await kari.login(client, "kari")
            let page = try await kari.get(client, "/oversikt").body
            let cells = try await f.app.store.statisticsInput().cells.filter { $0.unit == "4208" }
            try #require(!cells.isEmpty && cells.allSatisfy { (1..<5).contains($0.invited) }, "the fixture has a few invitations: \(cells)")
            #expect(page.contains("&lt;5"), "small counts are shown as <5")
            #expect(!page.contains(" %<"), "no response rate is shown for a small cell")
        }
    }
}
