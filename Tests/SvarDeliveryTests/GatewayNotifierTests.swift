import Foundation
import SvarDelivery
import SvarServices
import Testing

func gateway(_ peer: Peer, https: Bool = false, header: String? = "Authorization: Bearer gw-token") throws -> GatewayNotifier {
    try GatewayNotifier(
        settings: try GatewaySettings(
            url: "\(https ? "https" : "http")://127.0.0.1:\(peer.port)/v1/sms", header: header,
            body: #"{"msisdn":"{{to}}","text":"{{text}}","ref":"{{id}}"}"#,
            caFile: https ? peer.certificate : nil))
}

/// The SMS gateway notifier and the delivery pass against a local HTTP(S) server that records requests.
@Suite(.serialized) struct GatewayNotifierTests {
    @Test func aMessageIsPostedAsJSONWithTheHeaderAndAnIdempotencyKeyOverHTTPS() async throws {
        let peer = try Peer("gateway_server.py", ["--require-header", "Authorization: Bearer gw-token"], tls: true)
        defer { peer.stop() }
        let notifier = try gateway(peer, https: true)
        let sms = OutgoingMessage(
            channel: .sms, recipient: "+47 912 34 567", subject: "s", text: "Svar \"her\":\nhttps://svar.test/a/T",
            messageId: "<s1@svar.test>")
        #expect(await notifier.deliver([sms]) == [.sent])
        try await notifier.shutdown()
        let record = try #require(peer.records().first)
        #expect(record["path"] as? String == "/v1/sms" && record["status"] as? Int == 200)
        let headers = record["headers"] as? [String: String] ?? [:]
        #expect(headers["authorization"] == "Bearer gw-token" && headers["idempotency-key"] == "<s1@svar.test>")
        let body = try JSONSerialization.jsonObject(with: Data((record["body"] as? String ?? "").utf8)) as? [String: String]
        #expect(body == ["msisdn": "+4791234567", "text": "Svar \"her\":\nhttps://svar.test/a/T", "ref": "<s1@svar.test>"])
    }

    @Test func statusesAreClassified() async throws {
        for (status, expected) in [(500, "transient"), (429, "transient"), (400, "permanent"), (401, "transient")] {
            let peer = try Peer("gateway_server.py", ["--fail-first", "1", "--fail-status", String(status), "--retry-after", "120"])
            let notifier = try gateway(peer)
            let outcome = await notifier.deliver([
                OutgoingMessage(channel: .sms, recipient: "91234567", subject: "", text: "t", messageId: "<a@b>")
            ])
            try await notifier.shutdown()
            peer.stop()
            switch outcome.first {
            case .transient(_, let retryAfter)?:
                #expect(expected == "transient", "\(status)")
                #expect(retryAfter == (status == 401 ? nil : 120), "\(status)")
            case .permanent?: #expect(expected == "permanent", "\(status)")
            default: Issue.record("\(status): \(outcome)")
            }
        }
    }

    @Test func anInvalidNumberIsPermanentWithoutARequest() async throws {
        let peer = try Peer("gateway_server.py")
        defer { peer.stop() }
        let notifier = try gateway(peer)
        let outcome = await notifier.deliver([
            OutgoingMessage(channel: .sms, recipient: "call me", subject: "", text: "t", messageId: "<a@b>")
        ])
        try await notifier.shutdown()
        #expect(outcome == [.permanent(reason: "the mobile number is not valid")])
        #expect(peer.records().isEmpty)
    }

    @Test func aBusyGatewayIsRetriedNoSoonerThanItsRetryAfter() async throws {
        let f = try await DeliveryFixture.make(email: nil, mobile: "+4791234567")
        let peer = try Peer("gateway_server.py", ["--fail-first", "1", "--fail-status", "429", "--retry-after", "300"])
        defer { peer.stop() }
        let notifier = try gateway(peer)
        let pass = try f.pass([notifier])
        #expect(try await pass.run(now: t0).retrying == 1)
        #expect(try await pass.run(now: t0 + 120).sent == 0, "the gateway asked for 300 s")
        #expect(try await pass.run(now: t0 + 300).sent == 1)
        try await notifier.shutdown()
        #expect(peer.records().map { $0["status"] as? Int } == [429, 200])
        let text = try #require(peer.records().last?["body"] as? String)
        #expect(text.contains("\(publicURL)/a/") && text.contains("22. desember 2026 kl. 08:59"))
    }

    @Test func aPermanentSMSFailureMovesToEmailAtOnce() async throws {
        let f = try await DeliveryFixture.make(email: "kari@example.no", mobile: "+4791234567", channels: ["sms", "email"])
        let peer = try Peer("gateway_server.py", ["--fail-first", "1", "--fail-status", "400"])
        defer { peer.stop() }
        let folder = temporaryFolder("mailbox")
        defer { try? FileManager.default.removeItem(at: folder) }
        let notifier = try gateway(peer)
        let pass = try f.pass([notifier, FileMailbox(directory: folder, from: "svar@svar.test")])
        let report = try await pass.run(now: t0)
        #expect(report.nextChannel == 1 && report.sent == 1, "the next channel is due at once: the same pass sends on it")
        #expect(try await pass.run(now: t0).sent == 0)
        try await notifier.shutdown()
        #expect(emlFiles(folder).count == 1)
        let item = try #require(try await f.items("invitation").first)
        #expect(item.state == .sent && item.channel == "email" && item.failures == ["sms: gateway refused the message (400)"])
    }
}
