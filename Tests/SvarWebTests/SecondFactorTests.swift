import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SvarInstruments
import SvarStore
import SvarTestSupport
import SvarWeb
import Testing

/// The optional second factor of a protocol: birth date (checked against the vault) or a one-time code sent
/// through the outbox; five wrong answers lock the link for 15 minutes, and three locks void its links until a
/// clinician issues a new one.
@Suite struct SecondFactorTests {
    typealias Browser = PatientPageTests.Browser

    func enrolWithBirthDate(_ client: any TestClientProtocol) async throws -> String {
        _ = try await client.api(.post, "/api/v1/units", #"{"resh":"4208","name":"U"}"#)
        let patient = try await client.api(
            .post, "/api/v1/patients",
            #"{"identityNumber":"\#(synthetic(3))","birthDate":"1983-04-04","language":"nb","mobile":"91234567"}"#)
        let patientId = try #require(patient.json["id"]?.stringValue)
        let course = try await client.api(.post, "/api/v1/patients/\(patientId)/courses", #"{"unit":"4208"}"#)
        let courseId = try #require(course.json["id"]?.stringValue)
        let withEvent = try await client.api(.post, "/api/v1/courses/\(courseId)/events", #"{"type":"start","date":"2026-11-22"}"#)
        guard case .array(let invitations)? = withEvent.json["invitations"], let id = invitations.first?["id"]?.stringValue else {
            throw HTTPError(.internalServerError)
        }
        let link = try await client.api(.post, "/api/v1/invitations/\(id)/link")
        return String(try #require(link.json["url"]?.stringValue).dropFirst("https://svar.test".count))
    }

    @Test(arguments: StoreKind.engines)
    func theBirthDateOpensTheQuestionnaire(_ kind: StoreKind) async throws {
        let app = try await TestApp.make(kind, secondFactor: .birthDate)
        try await app.application.test(.router) { client in
            let link = try await enrolWithBirthDate(client)
            let browser = Browser(client)
            let gate = try await browser.get(link)
            #expect(gate.status == .ok)
            #expect(gate.html.contains(#"id="birth-date""#))
            #expect(try await browser.get("\(link)/s/1").html.contains(#"id="birth-date""#))  // no question before the factor
            let wrong = try await browser.post("\(link)/verify?lang=nb", ["csrf": try #require(gate.csrf), "birthDate": "05.04.1983"])
            #expect(wrong.status == .unprocessableContent)
            let right = try await browser.post("\(link)/verify?lang=nb", ["csrf": try #require(gate.csrf), "birthDate": "04.04.1983"])
            #expect(right.status == .seeOther)
            let step = try await browser.get("\(link)/s/1?lang=nb")
            #expect(step.status == .ok && step.html.contains("q-1-1"))
            let otherBrowser = Browser(client)  // the proof is per browser
            #expect(try await otherBrowser.get("\(link)/s/1").html.contains(#"id="birth-date""#))
        }
    }

    @Test(arguments: StoreKind.engines)
    func fiveWrongAnswersLockTheLinkForFifteenMinutes(_ kind: StoreKind) async throws {
        let clock = TestClock()
        let app = try await TestApp.make(kind, secondFactor: .birthDate, clock: clock)
        try await app.application.test(.router) { client in
            let link = try await enrolWithBirthDate(client)
            let browser = Browser(client)
            let csrf = try #require(try await browser.get(link).csrf)
            for attempt in 1...4 {
                let wrong = try await browser.post("\(link)/verify", ["csrf": csrf, "birthDate": "0\(attempt).01.1990"])
                #expect(wrong.status == .unprocessableContent, "attempt \(attempt)")
            }
            let fifth = try await browser.post("\(link)/verify", ["csrf": csrf, "birthDate": "01.01.1991"])
            #expect(fifth.status == .tooManyRequests)
            let rightButLocked = try await browser.post("\(link)/verify", ["csrf": csrf, "birthDate": "04.04.1983"])
            #expect(rightButLocked.status == .tooManyRequests)
            clock.now = clock.now.addingTimeInterval(14 * 60)
            #expect(try await browser.get(link).status == .tooManyRequests)
            clock.now = clock.now.addingTimeInterval(2 * 60)
            let unlocked = try await browser.post("\(link)/verify", ["csrf": csrf, "birthDate": "1983-04-04"])
            #expect(unlocked.status == .seeOther)
        }
    }

    @Test(arguments: StoreKind.engines)
    func threeLocksVoidTheLinksUntilTheClinicIssuesANewOne(_ kind: StoreKind) async throws {
        let clock = TestClock()
        let app = try await TestApp.make(kind, secondFactor: .birthDate, clock: clock)
        try await app.application.test(.router) { client in
            let link = try await enrolWithBirthDate(client)
            var states: [HTTPResponse.Status] = []
            for lock in 1...3 {
                // Fifteen failures stay below the per-client limit (30): the invitation's own count is what stops them.
                let browser = Browser(client)
                let csrf = try #require(try await browser.get(link).csrf)
                for _ in 1...5 {
                    states.append(try await browser.post("\(link)/verify", ["csrf": csrf, "birthDate": "01.01.1990"]).status)
                }
                if lock < 3 { clock.now = clock.now.addingTimeInterval(16 * 60) }
            }
            #expect(states.filter { $0 == .tooManyRequests }.count == 2 && states.last == .forbidden, "\(states)")
            clock.now = clock.now.addingTimeInterval(24 * 3600)
            let voided = try await Browser(client).get(link)
            #expect(voided.status == .forbidden && voided.html.contains("Lenken er sperret"), "voided stays voided")
            let worklist = try await app.store.invitationSummaries(in: .everyUnit, states: ["unreachable"], orVoidedLinks: true)
            #expect(worklist.count == 1 && worklist.first?.linkVoidedAt != nil, "the clinic sees it on the follow-up list")
            let invitationId = try #require(worklist.first?.invitationId)
            let fresh = try await client.api(.post, "/api/v1/invitations/\(invitationId)/link")
            let freshLink = String(try #require(fresh.json["url"]?.stringValue).dropFirst("https://svar.test".count))
            let browser = Browser(client)
            let csrf = try #require(try await browser.get(freshLink).csrf)
            #expect(try await browser.post("\(freshLink)/verify", ["csrf": csrf, "birthDate": "04.04.1983"]).status == .seeOther)
            let patientId = try #require(try await app.store.invitation(invitationId)?.patientId)
            let actions = try await app.store.auditEntries(subject: patientId).map(\.action)
            #expect(actions.contains("link.voided") && actions.contains("link.restored"), "\(actions)")
        }
    }

    @Test(arguments: StoreKind.engines)
    func parallelWrongAnswersCannotPassTheLockAndACodeIsUsedOnce(_ kind: StoreKind) async throws {
        let app = try await TestApp.make(kind, secondFactor: .code)
        try await app.application.test(.router) { client in
            let link = try await enrolWithBirthDate(client)
            let browser = Browser(client)
            _ = try await browser.get(link)
            let session = try await app.services.answering.open(token: String(link.dropFirst(3)), now: fixedNow)
            guard case .ready(let ready) = session else {
                Issue.record("link did not open: \(session)")
                return
            }
            let outcomes = try await withThrowingTaskGroup(of: FactorState.self) { group in
                for _ in 0..<12 { group.addTask { try await app.services.answering.checkCode(ready, input: "99999x", now: fixedNow) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .wrong }.count == 4, "\(outcomes)")
            #expect(outcomes.filter { if case .locked = $0 { return true } else { return false } }.count == 8)
        }
        // A fresh app: a right code passes once and is then used up.
        let second = try await TestApp.make(kind, secondFactor: .code)
        try await second.application.test(.router) { client in
            let link = try await enrolWithBirthDate(client)
            _ = try await Browser(client).get(link)
            let itemId = try #require(try await second.store.outboxItems(kind: .code).first?.id)
            let payload = try #require(try await second.store.outboxPayload(id: itemId))
            let code = try #require(try JSONParser.parse(payload)["code"]?.stringValue)
            guard case .ready(let session) = try await second.services.answering.open(token: String(link.dropFirst(3)), now: fixedNow)
            else {
                Issue.record("link did not open")
                return
            }
            #expect(try await second.services.answering.checkCode(session, input: code, now: fixedNow) == .passed)
            #expect(try await second.services.answering.checkCode(session, input: code, now: fixedNow) == .wrong, "a code is good once")
        }
    }

    @Test(arguments: StoreKind.engines)
    func aOneTimeCodeIsQueuedForTheNotifierAndOpensTheQuestionnaire(_ kind: StoreKind) async throws {
        let app = try await TestApp.make(kind, secondFactor: .code)
        try await app.application.test(.router) { client in
            let link = try await enrolWithBirthDate(client)
            let browser = Browser(client)
            let gate = try await browser.get(link)
            #expect(gate.html.contains(#"id="code""#))
            _ = try await browser.get(link)  // a reload does not send a second code
            let items = try await app.store.outboxItems(kind: .code)
            #expect(items.count == 1)
            let itemId = try #require(items.first?.id)
            let payloadText = try #require(try await app.store.outboxPayload(id: itemId))
            let payload = try JSONParser.parse(payloadText)
            let code = try #require(payload["code"]?.stringValue)
            #expect(code.count == 6)
            let wrongCode = code == "000000" ? "111111" : "000000"
            #expect(
                try await browser.post("\(link)/verify", ["csrf": try #require(gate.csrf), "code": wrongCode]).status
                    == .unprocessableContent)
            #expect(try await browser.post("\(link)/verify", ["csrf": try #require(gate.csrf), "code": code]).status == .seeOther)
            #expect(try await browser.get("\(link)/s/1").html.contains("q-1-1"))
        }
    }
}
