import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SvarInstruments
import SvarStore
import SvarTestSupport
import SvarWeb
import Testing

/// The contract routes of issue #3, their errors (`application/problem+json` with the field) and
/// that a refused request writes nothing.
@Suite struct APITests {
    func withApp(
        _ kind: StoreKind = .sqliteMemory, _ body: @escaping @Sendable (any TestClientProtocol, TestApp) async throws -> Void
    ) async throws {
        let app = try await TestApp.make(kind)
        try await app.application.test(.router) { client in try await body(client, app) }
    }

    /// Creates unit 4208, a patient and a course; returns (patient, course).
    func setUpCourse(_ client: any TestClientProtocol, number: Int = 1) async throws -> (String, String) {
        _ = try await client.api(.post, "/api/v1/units", #"{"resh":"4208","name":"Poliklinikk"}"#)
        let patient = try await client.api(
            .post, "/api/v1/patients",
            #"{"identityNumber":"\#(synthetic(number))","name":"Test Person","email":"t@example.org","mobile":"91234567","language":"nn"}"#)
        #expect(patient.status == .created)
        let patientId = try #require(patient.json["id"]?.stringValue)
        let course = try await client.api(.post, "/api/v1/patients/\(patientId)/courses", #"{"unit":"4208","type":"D01"}"#)
        #expect(course.status == .created)
        return (patientId, try #require(course.json["id"]?.stringValue))
    }

    // One engine: a request without the token is refused before the store is reached.
    @Test func everyCallNeedsTheBearerToken() async throws {
        try await withApp { client, _ in
            for (method, uri) in [
                (HTTPRequest.Method.get, "/api/v1/units"), (.post, "/api/v1/units"), (.get, "/api/v1/courses/x"),
                (.post, "/api/v1/patients"), (.post, "/api/v1/invitations/x/link"),
            ] {
                let none = try await client.api(method, uri, "{}", token: nil)
                #expect(none.status == .unauthorized, "\(uri)")
                #expect(none.headers[.contentType] == "application/problem+json")
                let wrong = try await client.api(method, uri, "{}", token: "not-the-token-at-all")
                #expect(wrong.status == .unauthorized, "\(uri)")
            }
        }
    }

    // One engine: a request without the token is refused before the store is reached.
    @Test func withoutAConfiguredTokenTheAPIIsOff() async throws {
        let app = try await TestApp.make(token: nil)
        try await app.application.test(.router) { client in
            let response = try await client.api(.get, "/api/v1/units", token: "anything-anything-anything")
            #expect(response.status == .unauthorized)
            #expect(response.json["detail"]?.stringValue?.contains("SVAR_API_TOKEN") == true)
        }
    }

    @Test(arguments: StoreKind.engines)
    func unitsAreCreatedOnceAndValidated(_ kind: StoreKind) async throws {
        try await withApp(kind) { client, _ in
            #expect(try await client.api(.post, "/api/v1/units", #"{"resh":"4208","name":"Poliklinikk"}"#).status == .created)
            let again = try await client.api(.post, "/api/v1/units", #"{"resh":"4208","name":"Other"}"#)
            #expect(again.status == .conflict)
            let bad = try await client.api(.post, "/api/v1/units", #"{"resh":"42-08","name":"X"}"#)
            #expect(bad.status == .badRequest && bad.json["field"] == .string("resh"))
            let unknown = try await client.api(.post, "/api/v1/units", #"{"resh":"1","name":"X","colour":"red"}"#)
            #expect(unknown.status == .badRequest && unknown.json["field"] == .string("colour"))
            let missing = try await client.api(.post, "/api/v1/units", #"{"resh":"1"}"#)
            #expect(missing.json["field"] == .string("name"))
            #expect(try await client.api(.post, "/api/v1/units", "{", contentType: "application/json").status == .badRequest)
            #expect(
                try await client.api(.post, "/api/v1/units", #"{"resh":"1","name":"X"}"#, contentType: "text/plain").status
                    == .unsupportedMediaType)
            let huge = #"{"resh":"1","name":""# + String(repeating: "x", count: 70_000) + #""}"#
            #expect(try await client.api(.post, "/api/v1/units", huge).status == .contentTooLarge)
            let list = try await client.api(.get, "/api/v1/units")
            // Members in sorted order: the API's encoder sorts keys (JSON does not care; this comparison does).
            #expect(list.json == .array([.object([("name", .string("Poliklinikk")), ("parent", .null), ("resh", .string("4208"))])]))
        }
    }

    @Test(arguments: StoreKind.engines)
    func enrollingTheSameNumberTwiceGives409WithTheExistingId(_ kind: StoreKind) async throws {
        try await withApp(kind) { client, _ in
            let first = try await client.api(.post, "/api/v1/patients", #"{"identityNumber":"01914796756","language":"nb"}"#)
            #expect(first.status == .created)
            let second = try await client.api(.post, "/api/v1/patients", #"{"identityNumber":"019147 96756"}"#)
            #expect(second.status == .conflict)
            #expect(second.json["id"] == first.json["id"])
            #expect(second.headers[.contentType] == "application/problem+json")
        }
    }

    // One engine: a malformed enrolment is refused before the store is reached.
    @Test(arguments: [
        (#"{"identityNumber":"01914796757"}"#, "identityNumber", "second control digit"),
        (#"{"identityNumber":"0191479675"}"#, "identityNumber", "11 digits"),
        (#"{"identityNumber":"01914796756","language":"se"}"#, "language", "nb, nn, en"),
        (#"{"identityNumber":"01914796756","email":"nope"}"#, "email", "e-mail"),
        (#"{"identityNumber":"01914796756","mobile":"12"}"#, "mobile", "8 digits"),
        (#"{"identityNumber":01914796756}"#, "$", "JSON"),
        (#"{"identityNumber":1914796756}"#, "identityNumber", "expected text"),
        (#"{"name":"No Number"}"#, "identityNumber", "required"),
    ])
    func badEnrolmentsNameTheField(_ body: String, _ field: String, _ words: String) async throws {
        try await withApp { client, app in
            let response = try await client.api(.post, "/api/v1/patients", body)
            #expect(response.status == .badRequest)
            if field != "$" { #expect(response.json["field"] == .string(field)) }
            #expect(response.json["detail"]?.stringValue?.contains(words) == true, "\(response.json)")
        }
    }

    // One engine: a synthetic number is refused before the store is reached.
    @Test func syntheticNumbersAreRefusedInProduction() async throws {
        let app = try await TestApp.make(mode: .production)
        try await app.application.test(.router) { client in
            let response = try await client.api(.post, "/api/v1/patients", #"{"identityNumber":"01914796756"}"#)
            #expect(response.status == .badRequest)
            #expect(response.json["detail"]?.stringValue?.contains("synthetic") == true)
        }
    }

    @Test(arguments: StoreKind.engines)
    func aCourseShowsItsEventsAndInvitations(_ kind: StoreKind) async throws {
        try await withApp(kind) { client, _ in
            let (patientId, courseId) = try await setUpCourse(client)
            let start = try await client.api(.post, "/api/v1/courses/\(courseId)/events", #"{"type":"start","date":"2026-11-20"}"#)
            #expect(start.status == .created)
            let course = try await client.api(.get, "/api/v1/courses/\(courseId)")
            #expect(course.status == .ok)
            #expect(course.json["patient"] == .string(patientId))
            #expect(course.json["unit"] == .string("4208"))
            guard case .array(let invitations)? = course.json["invitations"], let baseline = invitations.first else {
                Issue.record("no invitations in \(course.json)")
                return
            }
            #expect(invitations.count == 1)
            #expect(baseline["milestone"] == .string("baseline"))
            #expect(baseline["state"] == .string("scheduled"))
            #expect(baseline["instruments"] == .array([.string("rand36"), .string("eq5d-5l")]))
            #expect(baseline["opensAt"] == .string("2026-11-20T09:00:00+01:00"))
            #expect(baseline["closesAt"] == .string("2026-12-12T00:00:00+01:00"))
            guard case .array(let history)? = baseline["history"] else {
                Issue.record("no history")
                return
            }
            #expect(history.count == 1 && history.first?["to"] == .string("scheduled"))
            for key in ["id", "milestone", "instruments", "state", "opensAt", "closesAt", "history"] {
                #expect(baseline[key] != nil, "invitation has no \(key)")
            }
        }
    }

    @Test(arguments: StoreKind.engines)
    func endShowsTheOneYearFollowUpAtOnce(_ kind: StoreKind) async throws {
        try await withApp(kind) { client, _ in
            let (_, courseId) = try await setUpCourse(client)
            try await client.api(.post, "/api/v1/courses/\(courseId)/events", #"{"type":"start","date":"2026-01-05"}"#)
            let end = try await client.api(.post, "/api/v1/courses/\(courseId)/events", #"{"type":"end","date":"2026-11-02"}"#)
            guard case .array(let invitations)? = end.json["invitations"] else {
                Issue.record("no invitations")
                return
            }
            let milestones = invitations.compactMap { $0["milestone"]?.stringValue }
            #expect(milestones.contains("followUp1y") && milestones.contains("end"))
            let followUp = invitations.first { $0["milestone"] == .string("followUp1y") }
            #expect(followUp?["dueDate"] == .string("2027-11-02"))
            #expect(followUp?["state"] == .string("scheduled"))
        }
    }

    @Test(arguments: StoreKind.engines)
    func badEventsAreRefusedAndWriteNothing(_ kind: StoreKind) async throws {
        try await withApp(kind) { client, _ in
            let (_, courseId) = try await setUpCourse(client)
            let endFirst = try await client.api(.post, "/api/v1/courses/\(courseId)/events", #"{"type":"end","date":"2026-01-05"}"#)
            #expect(endFirst.status == .conflict && endFirst.json["field"] == .string("type"))
            try await client.api(.post, "/api/v1/courses/\(courseId)/events", #"{"type":"start","date":"2026-03-01"}"#)
            let cases: [(String, HTTPResponse.Status, String)] = [
                (#"{"type":"end","date":"2026-02-01"}"#, .conflict, "date"),
                (#"{"type":"start","date":"2026-03-02"}"#, .conflict, "type"),
                (#"{"type":"finish","date":"2026-03-02"}"#, .badRequest, "type"),
                (#"{"type":"evaluation","date":"2026-02-30"}"#, .badRequest, "date"),
                (#"{"type":"evaluation","date":"2027-01-01"}"#, .badRequest, "date"),
                (#"{"type":"evaluation","date":"2026-04-01","mood":"ok"}"#, .badRequest, "mood"),
                (#"{"type":"transfer","date":"2026-04-01"}"#, .badRequest, "unit"),
                (#"{"type":"transfer","date":"2026-04-01","unit":"9999"}"#, .badRequest, "unit"),
            ]
            let before = try await client.api(.get, "/api/v1/courses/\(courseId)").json
            for (body, status, field) in cases {
                let response = try await client.api(.post, "/api/v1/courses/\(courseId)/events", body)
                #expect(response.status == status, "\(body) → \(response.json)")
                #expect(response.json["field"] == .string(field), "\(body) → \(response.json)")
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            #expect(try await client.api(.get, "/api/v1/courses/\(courseId)").json == before)
            let duplicate = try await client.api(.post, "/api/v1/courses/\(courseId)/events", #"{"type":"start","date":"2026-03-01"}"#)
            #expect(duplicate.status == .conflict)
        }
    }

    @Test(arguments: StoreKind.engines)
    func unknownThingsAre404or400(_ kind: StoreKind) async throws {
        try await withApp(kind) { client, _ in
            #expect(try await client.api(.get, "/api/v1/courses/nope").status == .notFound)
            #expect(try await client.api(.post, "/api/v1/patients/nope/courses", #"{"unit":"4208"}"#).status == .notFound)
            #expect(try await client.api(.post, "/api/v1/patients/nope/reservation").status == .notFound)
            #expect(try await client.api(.post, "/api/v1/invitations/nope/link").status == .notFound)
            let (patientId, _) = try await setUpCourse(client)
            let badUnit = try await client.api(.post, "/api/v1/patients/\(patientId)/courses", #"{"unit":"1234"}"#)
            #expect(badUnit.status == .badRequest && badUnit.json["field"] == .string("unit"))
            let badType = try await client.api(.post, "/api/v1/patients/\(patientId)/courses", #"{"unit":"4208","type":"X9"}"#)
            #expect(badType.json["field"] == .string("type"))
        }
    }

    @Test(arguments: StoreKind.engines)
    func reservationCancelsPendingInvitationsAndBlocksNewOnes(_ kind: StoreKind) async throws {
        try await withApp(kind) { client, app in
            let (patientId, courseId) = try await setUpCourse(client)
            try await client.api(.post, "/api/v1/courses/\(courseId)/events", #"{"type":"start","date":"2026-11-01"}"#)
            let reservation = try await client.api(.post, "/api/v1/patients/\(patientId)/reservation")
            #expect(reservation.status == .created)
            #expect(reservation.json["cancelledInvitations"] == .int(1))
            let evaluation = try await client.api(
                .post, "/api/v1/courses/\(courseId)/events", #"{"type":"evaluation","date":"2026-11-15"}"#)
            #expect(evaluation.status == .created)  // care goes on: the event is recorded
            guard case .array(let invitations)? = evaluation.json["invitations"] else {
                Issue.record("no invitations")
                return
            }
            #expect(invitations.count == 1)  // ... but it creates no invitation
            #expect(invitations.first?["state"] == .string("cancelled"))
            #expect(invitations.first?["cancelReason"] == .string("reservation"))
            let audit = try await app.store.auditEntries(subject: patientId).map(\.action)
            #expect(audit.contains("patient.reserve"))
        }
    }

    @Test(arguments: StoreKind.engines)
    func deletionRequestIsAccepted(_ kind: StoreKind) async throws {
        try await withApp(kind) { client, app in
            let (patientId, _) = try await setUpCourse(client)
            let response = try await client.api(.post, "/api/v1/patients/\(patientId)/deletion-request")
            #expect(response.status == .accepted)
            #expect(try await app.store.patient(patientId)?.deletionRequestedAt != nil)
        }
    }

    @Test(arguments: StoreKind.engines)
    func aLinkIsIssuedAndAudited(_ kind: StoreKind) async throws {
        try await withApp(kind) { client, app in
            let (patientId, courseId) = try await setUpCourse(client)
            let course = try await client.api(.post, "/api/v1/courses/\(courseId)/events", #"{"type":"start","date":"2026-11-20"}"#)
            guard case .array(let invitations)? = course.json["invitations"], let id = invitations.first?["id"]?.stringValue else {
                Issue.record("no invitation")
                return
            }
            let link = try await client.api(.post, "/api/v1/invitations/\(id)/link")
            #expect(link.status == .created)
            let url = try #require(link.json["url"]?.stringValue)
            #expect(url.hasPrefix("https://svar.test/a/"))
            #expect(!url.contains(patientId) && !url.contains(synthetic(1)))
            let token = String(url.dropFirst("https://svar.test/a/".count))
            #expect(try app.services.links.verify(token, now: fixedNow).invitationId.uuidString.lowercased() == id)
            #expect(link.json["expiresAt"] == .string("2026-12-12T00:00:00+01:00"))
            #expect(try await app.store.auditEntries(subject: patientId).contains { $0.action == "invitation.link" })
        }
    }
}
