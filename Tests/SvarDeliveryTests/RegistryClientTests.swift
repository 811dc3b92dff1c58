import Foundation
import GRDB
import SvarAssets
import SvarDelivery
import SvarDomain
import SvarInstruments
import SvarRegistry
import SvarTestSupport
import Testing

/// The FHIR client against e2e/peers/registry_server.py on loopback: a real HTTP(S) receiver that validates
/// every Bundle with fhir.resources (R4B) and applies conditional creates.
@Suite(.serialized) struct RegistryClientTests {
    static let catalogue: InstrumentCatalogue? = try? InstrumentLoader.catalogue(
        instruments: packageRoot.appendingPathComponent("Sources/SvarAssets/instruments"))

    func submission(_ responseId: String = UUID().uuidString.lowercased()) throws -> RegistrySubmission {
        let instrument = try #require(Self.catalogue?.instrument("eq5d-5l"))
        let answers = JSONValue.object([
            ("MO", .int(1)), ("SC", .int(2)), ("UA", .int(3)), ("PD", .int(4)), ("AD", .int(5)), ("VAS", .int(70)),
        ])
        let score = try instrument.score(try instrument.checkAnswers(answers))
        let response = ForwardedResponse(
            responseId: responseId, patientId: "p", invitationId: "i", courseId: "c", unit: "4208",
            milestone: "baseline", instrument: "eq5d-5l", instrumentVersion: instrument.questionnaire.version,
            language: "nb", respondent: "patient", submittedAt: Date(timeIntervalSince1970: 1_795_000_000),
            answersJSON: answers.serialized, scores: score.stored)
        let bundle = try RegistryBundle.transaction(response, subject: .pseudonym("5f1c0ffee"), instrument: instrument)
        return RegistrySubmission(
            response: response, pseudonym: "5f1c0ffee", subject: .pseudonym("5f1c0ffee"), identity: nil,
            bundle: bundle.serialized, idempotencyKey: "svar-forward-\(responseId)")
    }

    func client(_ peer: Peer, tls: Bool = true, token: String? = "registry-token", timeout: TimeInterval = 10) throws -> FHIRRegistryClient
    {
        var settings = try RegistrySettings(
            base: "\(tls ? "https" : "http")://127.0.0.1:\(peer.port)/fhir", token: token,
            caFile: tls ? peer.certificate : nil, identity: nil)
        settings.timeout = timeout
        return try FHIRRegistryClient(settings: settings)
    }

    func stored(_ store: URL, type: String) throws -> Int {
        try DatabaseQueue(path: store.path).read {
            try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM resources WHERE type = ?", arguments: [type]) ?? 0
        }
    }

    func strings(_ store: URL, _ sql: String) throws -> [String] {
        try DatabaseQueue(path: store.path).read { try String.fetchAll($0, sql: sql) }
    }

    func storeFile() -> URL {
        ScratchFolder.file("registry-peer")
    }

    @Test func aBundleIsStoredOverHTTPSAndSendingItAgainDuplicatesNothing() async throws {
        let store = storeFile()
        defer { try? FileManager.default.removeItem(at: store) }
        let peer = try Peer("registry_server.py", ["--token", "registry-token"], tls: true, recordFlag: "--store", record: store)
        defer { peer.stop() }
        let client = try client(peer)
        let s = try submission()
        guard case .accepted(let first) = await client.submit(s) else {
            Issue.record("not accepted")
            try await client.shutdown()
            return
        }
        guard case .accepted(let second) = await client.submit(s) else {
            Issue.record("retry not accepted")
            try await client.shutdown()
            return
        }
        try await client.shutdown()
        #expect(first.hasPrefix("HTTP 200: 201 Patient/") && !first.contains("200 "), "\(first)")
        #expect(second.hasPrefix("HTTP 200: 200 Patient/") && !second.contains("201 "), "the retry creates nothing: \(second)")
        let responses = try stored(store, type: "QuestionnaireResponse")
        let observations = try stored(store, type: "Observation")
        #expect(responses == 1 && observations == s.response.scores.count)
        #expect(try strings(store, "SELECT idempotency_key FROM requests") == [s.idempotencyKey, s.idempotencyKey])
        #expect(try strings(store, "SELECT errors FROM invalid").isEmpty, "fhir.resources found nothing wrong with the Bundle")
    }

    @Test func anAnswerLostAfterTheRegistryStoredItIsRetriedWithoutADuplicate() async throws {
        let store = storeFile()
        defer { try? FileManager.default.removeItem(at: store) }
        let port = Peer.freePort()
        let s = try submission()
        do {
            let failing = try Peer(
                "registry_server.py", ["--fail-after-store-share", "1"], port: port, recordFlag: "--store", record: store)
            defer { failing.stop() }
            let client = try client(failing, tls: false, token: nil)
            let outcome = await client.submit(s)
            try await client.shutdown()
            guard case .transient(let reason, _) = outcome else {
                Issue.record("expected a retry, got \(outcome)")
                return
            }
            #expect(reason.hasPrefix("registry answered 503"), "\(reason)")
        }
        #expect(try stored(store, type: "QuestionnaireResponse") == 1, "the receiver kept it before failing")
        let restarted = try Peer("registry_server.py", [], port: port, recordFlag: "--store", record: store)
        defer { restarted.stop() }
        let client = try client(restarted, tls: false, token: nil)
        let outcome = await client.submit(s)
        try await client.shutdown()
        guard case .accepted = outcome else {
            Issue.record("expected acceptance, got \(outcome)")
            return
        }
        let responses = try stored(store, type: "QuestionnaireResponse")
        let patients = try stored(store, type: "Patient")
        #expect(responses == 1 && patients == 1)
    }

    @Test func refusalsThrottlingAndCredentialsAreToldApart() async throws {
        let cases: [(flags: [String], token: String?, check: @Sendable (ForwardOutcome) -> Bool)] = [
            (
                ["--reject-share", "1"], "registry-token",
                {
                    if case .permanent(let reason) = $0 { return reason.hasPrefix("registry refused the Bundle (422)") }
                    return false
                }
            ),
            (
                ["--throttle-share", "1"], "registry-token",
                {
                    if case .transient(_, let after) = $0 { return after == 1 }
                    return false
                }
            ),
            (
                ["--fail-share", "1"], "registry-token",
                {
                    if case .transient(let reason, _) = $0 { return reason.hasPrefix("registry answered 500") }
                    return false
                }
            ),
            (
                [], "wrong-token",
                {
                    if case .transient(let reason, _) = $0 { return reason.contains("SVAR_REGISTRY_TOKEN") }
                    return false
                }
            ),
        ]
        for c in cases {
            let store = storeFile()
            defer { try? FileManager.default.removeItem(at: store) }
            let peer = try Peer("registry_server.py", ["--token", "registry-token"] + c.flags, recordFlag: "--store", record: store)
            defer { peer.stop() }
            let client = try client(peer, tls: false, token: c.token)
            let outcome = await client.submit(try submission())
            try await client.shutdown()
            #expect(c.check(outcome), "\(c.flags) \(c.token ?? ""): \(outcome)")
            #expect(try stored(store, type: "QuestionnaireResponse") == 0)
        }
    }

    @Test func aHangingOrAbsentRegistryIsATransientFailure() async throws {
        let store = storeFile()
        defer { try? FileManager.default.removeItem(at: store) }
        let peer = try Peer("registry_server.py", ["--hang-share", "1", "--hang-seconds", "5"], recordFlag: "--store", record: store)
        let client = try client(peer, tls: false, token: nil, timeout: 1)
        let started = Date()
        let hung = await client.submit(try submission())
        #expect(Date().timeIntervalSince(started) < 4.5, "the client gives up on its own timeout")
        peer.stop()
        let absent = await client.submit(try submission())
        try await client.shutdown()
        for outcome in [hung, absent] {
            guard case .transient(let reason, _) = outcome else {
                Issue.record("expected a retry, got \(outcome)")
                continue
            }
            #expect(reason.hasPrefix("registry unreachable"), "\(reason)")
        }
    }

    @Test func aRegistryWhoseCertificateIsNotTrustedIsNotSentAnything() async throws {
        let store = storeFile()
        defer { try? FileManager.default.removeItem(at: store) }
        let peer = try Peer("registry_server.py", [], tls: true, recordFlag: "--store", record: store)
        defer { peer.stop() }
        let client = try FHIRRegistryClient(
            settings: try RegistrySettings(base: "https://127.0.0.1:\(peer.port)/fhir", token: nil, caFile: nil, identity: nil))
        let outcome = await client.submit(try submission())
        try await client.shutdown()
        guard case .transient = outcome else {
            Issue.record("expected a retry, got \(outcome)")
            return
        }
        #expect(try stored(store, type: "QuestionnaireResponse") == 0)
    }

    @Test func settingsNameTheVariable() throws {
        let cases: [(String, String?, String?, String)] = [
            ("http://registry.example.no/fhir", nil, nil, "SVAR_REGISTRY_URL"),
            ("ftp://127.0.0.1/fhir", nil, nil, "SVAR_REGISTRY_URL"),
            ("https://registry.example.no/fhir", "two words", nil, "SVAR_REGISTRY_TOKEN"),
            ("https://registry.example.no/fhir", nil, "everything", "SVAR_REGISTRY_IDENTITY"),
        ]
        for (url, token, identity, variable) in cases {
            #expect(throws: DeliveryConfigurationError.self) {
                try RegistrySettings(base: url, token: token, caFile: nil, identity: identity)
            }
            do {
                _ = try RegistrySettings(base: url, token: token, caFile: nil, identity: identity)
            } catch {
                #expect(error.variable == variable)
            }
        }
        #expect(
            try RegistrySettings(base: "https://registry.example.no/fhir", token: "t", caFile: nil, identity: "number").sendsIdentityNumber)
    }
}
