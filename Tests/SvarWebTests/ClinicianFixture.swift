import Foundation
import Hummingbird
import HummingbirdTesting
import JWTKit
import SvarDomain
import SvarInstruments
import SvarRegistry
import SvarServices
import SvarStore
import SvarTestSupport
import SvarWeb

/// Two units (4208 and 5000), a patient with an answered baseline at 4208, and a way to log in.
struct ClinicianFixture {
    let app: TestApp
    let patientId: String
    let courseId: String
    let invitationId: String
    static let password = "correct horse battery staple"
    static let name = "Kari Nordmann"

    static func make(
        _ kind: StoreKind = .sqliteMemory, clock: TestClock = TestClock(), accessTokens: AccessTokens? = nil
    ) async throws -> ClinicianFixture {
        let app = try await TestApp.make(kind, clock: clock, accessTokens: accessTokens)
        let store = app.store
        try await store.createUnit(Unit(resh: "4208", name: "Poliklinikk Nord"), actor: "test", at: fixedNow)
        try await store.createUnit(Unit(resh: "5000", name: "Annen enhet"), actor: "test", at: fixedNow)
        try await store.createUnit(Unit(resh: "5001", name: "Under annen enhet", parent: "5000"), actor: "test", at: fixedNow)
        guard
            case .created(let patientId) = try await app.services.enrolment.enrol(
                .init(identityNumber: synthetic(1), name: name, email: "kari@example.no"), actor: "test", at: fixedNow)
        else {
            throw FixtureFailure()
        }
        let courseId = UUID().uuidString.lowercased()
        try await store.createCourse(NewCourse(id: courseId, patientId: patientId, unit: "4208", type: .D01), actor: "test", at: fixedNow)
        _ = try await app.services.pathways.record(
            courseId: courseId, type: .start, date: LocalDate(iso: "2026-11-21")!, unit: nil,
            nprCode: nil, actor: "test", at: fixedNow)
        _ = try await SchedulerPass(store: store, scheduleProtocol: app.scheduleProtocol).run(now: fixedNow)
        let invitationId = try await store.course(courseId)?.invitations.first?.id ?? ""
        try await answerBaseline(app, invitationId: invitationId)
        let accounts = TestApp.accounts(store, app.services.vault)
        for (user, role, units) in [
            ("kari", Role.behandler, ["4208"]), ("kontakt", .kvarusKontakt, ["4208"]), ("other", .behandler, ["5000"]),
            ("entity", .registerkontakt, ["5000"]), ("entity-a", .registerkontakt, ["4208"]), ("admin", .registryAdmin, []),
        ] {
            _ = try await whileHashingIsBusy {
                try await accounts.add(
                    username: user, password: password, role: role, units: units, totp: false, actor: "test", at: fixedNow)
            }
        }
        return ClinicianFixture(app: app, patientId: patientId, courseId: courseId, invitationId: invitationId)
    }
}

extension ClinicianFixture {
    /// Answers RAND-36 and EQ-5D-5L (the first option of every choice unless `choosing` names another code, 70 for
    /// numbers) and submits them, with the safety flags the answers raise as the patient's submission records them.
    static func answerBaseline(
        _ app: TestApp, invitationId: String, choosing: [String: Int] = [:], instruments: [String] = ["rand36", "eq5d-5l"],
        at: Date = fixedNow
    ) async throws {
        var responses: [SubmittedResponse] = []
        for id in instruments {
            guard let instrument = app.services.catalogue.instrument(id) else { throw FixtureFailure() }
            var answers: [(String, JSONValue)] = []
            for q in instrument.questionnaire.questions {
                if let chosen = choosing[q.linkId] {
                    answers.append((q.linkId, .int(chosen)))
                } else if let code = q.answerOption?.first.flatMap({ Int($0.valueCoding.code) }) {
                    answers.append((q.linkId, .int(code)))
                } else if q.type == .integer {
                    answers.append((q.linkId, .int(min(70, q.maxValue ?? 70))))
                }
            }
            let json = JSONValue.object(answers)
            let checked = try instrument.checkAnswers(json)
            let score = try instrument.score(checked)
            responses.append(
                SubmittedResponse(
                    instrument: id, instrumentVersion: instrument.questionnaire.version, answersJSON: json.serialized,
                    scores: score.stored, safetyItems: instrument.safetyFlags(checked).map(\.item)))
        }
        try await app.store.submit(invitationId: invitationId, responses: responses, respondent: "patient", language: "nb", at: at)
    }
}

struct FixtureFailure: Error {}

/// Runs `body` again while the password hashing pool is full (`PasswordHashing.Busy`): suites running side by side
/// each make accounts, and the pool answers "busy" beyond 32 waiting hashes by design. Waits, never asserts a time.
func whileHashingIsBusy<T>(_ body: () async throws -> T) async throws -> T {
    for _ in 0..<200 {
        do {
            return try await body()
        } catch is PasswordHashing.Busy {
            try await Task.sleep(for: .milliseconds(50))
        }
    }
    return try await body()
}

/// A browser-like client: keeps cookies, reads the CSRF token from the last page.
struct Browser {
    var cookies: [String: String] = [:]
    var csrf = ""

    var cookieHeader: String { cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ") }

    mutating func remember(_ headers: HTTPFields) {
        for value in headers[values: .setCookie] {
            let pair = value.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
            if pair.count == 2 { cookies[String(pair[0])] = String(pair[1]) }
            if pair.count == 2, value.contains("Max-Age=0") { cookies[String(pair[0])] = nil }
        }
    }

    mutating func get(_ client: some TestClientProtocol, _ uri: String) async throws -> (
        status: HTTPResponse.Status, body: String, headers: HTTPFields
    ) {
        var headers = HTTPFields()
        if !cookies.isEmpty { headers[.cookie] = cookieHeader }
        let result = try await client.execute(uri: uri, method: .get, headers: headers, body: nil) {
            ($0.status, String(buffer: $0.body), $0.headers)
        }
        remember(result.2)
        if let range = result.1.range(of: #"name="csrf" value="([^"]+)""#, options: .regularExpression) {
            csrf = String(result.1[range].split(separator: "\"")[3])
        }
        return result
    }

    mutating func post(_ client: some TestClientProtocol, _ uri: String, _ fields: [String: String], csrf include: Bool = true) async throws
        -> (status: HTTPResponse.Status, body: String, headers: HTTPFields)
    {
        var all = fields
        if include { all["csrf"] = csrf }
        let body = all.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(
            separator: "&")
        var headers = HTTPFields()
        headers[.contentType] = "application/x-www-form-urlencoded"
        if !cookies.isEmpty { headers[.cookie] = cookieHeader }
        let result = try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body)) {
            ($0.status, String(buffer: $0.body), $0.headers)
        }
        remember(result.2)
        return result
    }

    /// Logs in through the form; returns the login POST's answer.
    mutating func login(
        _ client: some TestClientProtocol, _ username: String, _ password: String = ClinicianFixture.password,
        code: String? = nil
    ) async throws -> (status: HTTPResponse.Status, body: String, headers: HTTPFields) {
        var fields = ["username": username, "password": password]
        if let code { fields["code"] = code }
        // A full hashing pool answers 503 ("busy"): try again, as a person would — but twice at most, since each
        // attempt counts towards the name's lock (5) until a login succeeds.
        for _ in 0..<2 {
            _ = try await get(client, "/login")
            let answer = try await post(client, "/login", fields)
            guard answer.status == .serviceUnavailable else { return answer }
            try await Task.sleep(for: .milliseconds(300))
        }
        _ = try await get(client, "/login")
        return try await post(client, "/login", fields)
    }
}

/// Signs access tokens with a key whose public half is in the JWKS the server trusts.
struct TokenIssuer {
    let keys: JWTKeyCollection
    let jwks: String

    struct Claims: JWTPayload {
        var iss: IssuerClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var sub: SubjectClaim
        // swift-format-ignore: AlwaysUseLowerCamelCase
        var svar_role: String?
        // swift-format-ignore: AlwaysUseLowerCamelCase
        var svar_units: [String]?
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func make() async throws -> TokenIssuer {
        let key = ES256PrivateKey()
        let keys = await JWTKeyCollection().add(ecdsa: key, kid: "test-key")
        guard let parameters = key.publicKey.parameters else { throw FixtureFailure() }
        let jwks =
            #"{"keys":[{"kty":"EC","crv":"P-256","kid":"test-key","alg":"ES256","use":"sig","#
            + #""x":"\#(parameters.x)","y":"\#(parameters.y)"}]}"#
        return TokenIssuer(keys: keys, jwks: jwks)
    }

    func token(
        role: String?, units: [String], issuer: String = "https://helseid.test", audience: String = "svar",
        expires: Date = Date().addingTimeInterval(600)
    ) async throws -> String {
        try await keys.sign(
            Claims(
                iss: .init(value: issuer), aud: .init(value: [audience]), exp: .init(value: expires),
                sub: .init(value: "hpr-123"), svar_role: role, svar_units: units), kid: "test-key")
    }

    func verifier() async throws -> AccessTokens {
        AccessTokens(keys: try await JWTKeyCollection().add(jwksJSON: jwks), issuer: "https://helseid.test", audience: "svar")
    }
}
