import Foundation
import SvarServices
import SvarTestSupport
import Testing

@testable import SvarDelivery

func mail(_ i: Int, to recipient: String? = nil) -> OutgoingMessage {
    OutgoingMessage(
        channel: .email, recipient: recipient ?? "patient\(i)@example.no", subject: "Et spørreskjema til deg",
        text: "Hei,\n.\nlenke https://svar.test/a/T\(i)\n", html: "<p>Hei</p>", messageId: "<m\(i)@svar.test>")
}

func smtp(_ url: String, ca: String? = nil, tls: String? = nil) throws -> SMTPNotifier {
    var settings = try SMTPSettings(url: url, from: "svar@svar.test", caFile: ca, tls: tls)
    settings.connectTimeout = 5
    settings.messageTimeout = 10
    return try SMTPNotifier(settings: settings)
}

/// The SMTP notifier against a real SMTP server (aiosmtpd) on 127.0.0.1.
@Suite(.serialized) struct SMTPNotifierTests {
    @Test func startTLSWithAuthSendsABatchOverOneConnection() async throws {
        let peer = try Peer("smtp_server.py", ["--auth", "svar:s3cret"], tls: true)
        defer { peer.stop() }
        let notifier = try smtp("smtp://svar:s3cret@127.0.0.1:\(peer.port)", ca: peer.certificate)
        let (outcomes, connections) = await notifier.deliverCountingConnections([mail(1), mail(2), mail(3)])
        #expect(outcomes == [.sent, .sent, .sent])
        #expect(connections == 1)
        let records = peer.records()
        #expect(records.count == 3)
        #expect(Set(records.compactMap { $0["connection"] as? Int }).count == 1, "one connection for the batch")
        #expect(records.allSatisfy { $0["tls"] as? Bool == true && $0["auth_user"] as? String == "svar" })
        #expect(records.allSatisfy { $0["ehlo"] as? String == "svar.test" }, "greets with the sender's domain")
        #expect(records.compactMap { $0["message_id"] as? String } == ["<m1@svar.test>", "<m2@svar.test>", "<m3@svar.test>"])
        let first = try #require(records.first?["data"] as? String)
        #expect(first.contains("Content-Type: multipart/alternative") && first.contains("text/html"))
        #expect(decodeQuotedPrintable(first).contains("Hei,\r\n.\r\nlenke https://svar.test/a/T1"), "a lone dot line survives dot-stuffing")
        #expect(records.first?["rcpt_tos"] as? [String] == ["patient1@example.no"])
    }

    /// The delivery pass records each outcome before the next message goes out, on the same connection: when the
    /// recording fails (a crash, in effect), the rest of the batch is not sent, so at most one message is in doubt.
    @Test func eachOutcomeIsRecordedBeforeTheNextMessageGoesOut() async throws {
        let peer = try Peer("smtp_server.py")
        defer { peer.stop() }
        let notifier = try smtp("smtp://127.0.0.1:\(peer.port)")
        var seenBySMTPPeer: [Int] = []
        await #expect(throws: DeliveryFixtureError.self) {
            try await notifier.deliver([mail(1), mail(2), mail(3), mail(4)]) { index, outcome in
                #expect(outcome == .sent)
                // What the server holds when this outcome is recorded: this message, and none after it.
                seenBySMTPPeer.append(peer.records().count)
                if index == 1 { throw DeliveryFixtureError() }
            }
        }
        #expect(seenBySMTPPeer == [1, 2])
        try await Task.sleep(for: .milliseconds(300))
        #expect(peer.records().compactMap { $0["message_id"] as? String } == ["<m1@svar.test>", "<m2@svar.test>"])
        #expect(Set(peer.records().compactMap { $0["connection"] as? Int }).count == 1, "still one connection")
    }

    /// `SVAR_SMTP_TLS=required` against a server that offers no STARTTLS: nothing goes out in clear. On loopback
    /// without the setting, a plain server is accepted (it is this machine's own relay).
    @Test func requiredTLSRefusesAServerWithoutSTARTTLSAndSendsNothing() async throws {
        let peer = try Peer("smtp_server.py")
        defer { peer.stop() }
        let outcome = await (try smtp("smtp://127.0.0.1:\(peer.port)", tls: "required")).deliver([mail(1)])
        guard case .transient(let reason, _)? = outcome.first else {
            Issue.record("expected transient, got \(outcome)")
            return
        }
        #expect(reason.lowercased().contains("tls") || reason.lowercased().contains("ssl"), "\(reason)")
        #expect(peer.records().isEmpty, "nothing was sent in clear")
        #expect(await (try smtp("smtp://127.0.0.1:\(peer.port)")).deliver([mail(2)]) == [.sent])
    }

    @Test func implicitTLSWorks() async throws {
        let peer = try Peer("smtp_server.py", ["--implicit-tls", "--auth", "svar:s3cret"], tls: true)
        defer { peer.stop() }
        let notifier = try smtp("smtps://svar:s3cret@127.0.0.1:\(peer.port)", ca: peer.certificate)
        #expect(await notifier.deliver([mail(1)]) == [.sent])
        #expect(peer.records().first?["tls"] as? Bool == true)
    }

    @Test func aCertificateNotTrustedExplicitlyIsRefusedAndNothingIsSent() async throws {
        let peer = try Peer("smtp_server.py", ["--implicit-tls"], tls: true)
        defer { peer.stop() }
        let outcome = await (try smtp("smtps://127.0.0.1:\(peer.port)")).deliver([mail(1)])
        guard case .transient(let reason, _)? = outcome.first else {
            Issue.record("expected transient, got \(outcome)")
            return
        }
        #expect(reason.lowercased().contains("certificate"), "\(reason)")
        #expect(peer.records().isEmpty)
    }

    /// The extra CA is trusted beside the system's, and the two are joined in memory: a combined file in the
    /// temporary directory was left behind by every start of `svar` with `SVAR_SMTP_CA_FILE`.
    @Test func anExtraCAJoinsTheSystemBundleWithoutAFileBehind() throws {
        let extra = ScratchFolder.file("extra-ca", extension: "pem")
        try Data("-----BEGIN CERTIFICATE-----\nextra\n-----END CERTIFICATE-----\n".utf8).write(to: extra)
        let temporary = FileManager.default.temporaryDirectory.path
        let leftBehind = { try FileManager.default.contentsOfDirectory(atPath: temporary).filter { $0.hasPrefix("svar-smtp-ca-") } }
        let before = try leftBehind()
        let notifier = try smtp("smtp://127.0.0.1:25", ca: extra.path)
        #expect(try leftBehind() == before)
        let bundle = try #require(notifier.caBundle)
        let system = try #require(FileManager.default.contents(atPath: "/etc/ssl/certs/ca-certificates.crt"))
        #expect(bundle.starts(with: system), "the system's CAs stay trusted")
        #expect(bundle.suffix(60) == Array(try Data(contentsOf: extra)).suffix(60), "and the extra one is added")
    }

    @Test func aWrongPasswordIsTheOperatorsProblemSoItIsRetriedNotFinal() async throws {
        let peer = try Peer("smtp_server.py", ["--auth", "svar:s3cret"], tls: true)
        defer { peer.stop() }
        let outcome = await (try smtp("smtp://svar:wrong@127.0.0.1:\(peer.port)", ca: peer.certificate)).deliver([mail(1)])
        guard case .transient(let reason, _)? = outcome.first else {
            Issue.record("expected transient, got \(outcome)")
            return
        }
        #expect(reason.contains("535") && !reason.contains("wrong"), "\(reason)")
        #expect(peer.records().isEmpty)
    }

    @Test func aRefusedRecipientIsPermanentAndTheRestOfTheBatchStillGoes() async throws {
        let peer = try Peer("smtp_server.py", ["--reject-rcpt", "gone"])
        defer { peer.stop() }
        let outcomes = await (try smtp("smtp://127.0.0.1:\(peer.port)")).deliver([mail(1), mail(2, to: "gone@example.no"), mail(3)])
        #expect(outcomes.count == 3 && outcomes[0] == .sent && outcomes[2] == .sent)
        guard case .permanent(let reason) = outcomes[1] else {
            Issue.record("expected permanent, got \(outcomes[1])")
            return
        }
        #expect(reason.contains("550") && !reason.contains("gone@example.no"), "the reason must not carry the address: \(reason)")
        #expect(peer.records().compactMap { $0["message_id"] as? String } == ["<m1@svar.test>", "<m3@svar.test>"])
    }

    @Test func aServerThatNeverAnswersTimesOutAsATransientFailure() async throws {
        // A listening socket that never accepts: the TCP handshake succeeds, the SMTP greeting never comes.
        let (fd, port) = Peer.boundLoopbackSocket()
        defer { close(fd) }
        #expect(listen(fd, 4) == 0)
        var settings = try SMTPSettings(url: "smtp://127.0.0.1:\(port)", from: "svar@svar.test")
        settings.messageTimeout = 2
        let started = Date()
        let outcome = await (try SMTPNotifier(settings: settings)).deliver([mail(1)])
        guard case .transient(let reason, _)? = outcome.first else {
            Issue.record("expected transient, got \(outcome)")
            return
        }
        #expect(reason.lowercased().contains("timed out"), "\(reason)")
        #expect(Date().timeIntervalSince(started) < 30, "the timeout must end the attempt")
    }

    @Test func aServerThatIsDownIsATransientFailure() async throws {
        let outcome = await (try smtp("smtp://127.0.0.1:\(Peer.freePort())")).deliver([mail(1)])
        guard case .transient? = outcome.first else {
            Issue.record("expected transient, got \(outcome)")
            return
        }
    }
}

/// The delivery pass over the SMTP notifier: retries after the server was down or dropped the connection.
@Suite(.serialized) struct SMTPDeliveryTests {
    @Test func aServerThatWasDownGetsTheInvitationOnTheRetryAfterBackoff() async throws {
        let f = try await DeliveryFixture.make()
        let port = Peer.freePort()
        let pass = try f.pass([smtp("smtp://127.0.0.1:\(port)")])
        #expect(try await pass.run(now: t0).retrying == 1)
        let peer = try Peer("smtp_server.py", port: port)
        defer { peer.stop() }
        #expect(try await pass.run(now: t0 + 10).sent == 0, "not before the backoff")
        #expect(try await pass.run(now: t0 + 45).sent == 1)
        #expect(peer.records().count == 1)
        let item = try #require(try await f.items("invitation").first)
        #expect(item.state == .sent && item.attempts == 2 && item.messageId == "<\(item.id).0.2@svar.test>")
    }

    @Test func aConnectionDroppedInDataIsRetriedAndTheReceiverHoldsOneCopyPerMessageId() async throws {
        let f = try await DeliveryFixture.make()
        let peer = try Peer("smtp_server.py", ["--drop-in-data", "1"])
        defer { peer.stop() }
        let pass = try f.pass([smtp("smtp://127.0.0.1:\(peer.port)")])
        #expect(try await pass.run(now: t0).retrying == 1)
        #expect(peer.records().isEmpty)
        #expect(try await pass.run(now: t0 + 45).sent == 1)
        let ids = peer.records().compactMap { $0["message_id"] as? String }
        #expect(ids.count == 1 && Set(ids).count == ids.count)
        #expect(try await pass.run(now: t0 + 3600) == DeliveryPass.Report(), "sent once, never again")
    }
}
