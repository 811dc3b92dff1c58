import Foundation
import HummingbirdTesting
import Logging
import SvarDelivery
import SvarDomain
import SvarInstruments
import SvarServices
import SvarStore
import SvarTestSupport
import Testing

/// The clinicians' follow-up list of invitations no channel could deliver (issue #5).
@Suite struct UnreachableAPITests {
    @Test(arguments: StoreKind.engines)
    func anInvitationNoChannelCanDeliverIsListedForItsUnitWithTheReasons(_ kind: StoreKind) async throws {
        let app = try await TestApp.make(kind)
        try await app.application.test(.router) { client in
            _ = try await client.api(.post, "/api/v1/units", #"{"resh":"4208","name":"Poliklinikk"}"#)
            let patient = try await client.api(
                .post, "/api/v1/patients",
                #"{"identityNumber":"\#(synthetic(3))","mobile":"91234567","channels":["sms","email"]}"#)
            let patientId = try #require(patient.json["id"]?.stringValue)
            let course = try await client.api(.post, "/api/v1/patients/\(patientId)/courses", #"{"unit":"4208","type":"D01"}"#)
            let courseId = try #require(course.json["id"]?.stringValue)
            _ = try await client.api(.post, "/api/v1/courses/\(courseId)/events", #"{"type":"start","date":"2026-11-21"}"#)
            _ = try await SchedulerPass(store: app.store, scheduleProtocol: app.scheduleProtocol).run(now: fixedNow)
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("svar-unreachable-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: folder) }
            let pass = DeliveryPass(
                store: app.store, vault: try IdentityVault(masterKey: testVaultKey), links: app.services.links,
                composer: try MessageComposer.load(webDirectory: sourceWeb),
                notifiers: [FileMailbox(directory: folder, from: "svar@svar.test")],
                messageDomain: "svar.test", logger: Logger(label: "test"))
            #expect(try await pass.run(now: fixedNow).undeliverable == 1)

            let listed = try await client.api(.get, "/api/v1/unreachable?unit=4208")
            #expect(listed.status == .ok)
            guard case .array(let items) = listed.json, let item = items.first else {
                Issue.record("not listed: \(listed.json)")
                return
            }
            #expect(items.count == 1)
            #expect(item["course"] == .string(courseId) && item["unit"] == .string("4208") && item["milestone"] == .string("baseline"))
            #expect(
                item["reasons"]
                    == .array([.string("sms: not configured in this installation"), .string("email: no e-mail address on record")]))
            #expect(try await client.api(.get, "/api/v1/unreachable?unit=1111").json == .array([]))
            #expect(try await client.api(.get, "/api/v1/unreachable", token: nil).status == .unauthorized)
        }
    }

    @Test(arguments: [#"["fax"]"#, #"[]"#, #"["sms","sms"]"#, #""sms""#])
    func aBadChannelOrderIsRefusedNamingTheField(_ channels: String) async throws {
        let app = try await TestApp.make()
        try await app.application.test(.router) { client in
            let response = try await client.api(
                .post, "/api/v1/patients", #"{"identityNumber":"\#(synthetic(4))","channels":\#(channels)}"#)
            #expect(response.status == .badRequest)
            #expect(response.json["field"] == .string("channels"), "\(response.json)")
        }
    }
}
