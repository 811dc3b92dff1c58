import Foundation
import SvarDelivery
import Testing

@Suite struct FileMailboxTests {
    @Test func eachMessageBecomesOneReadableEmlFileOwnerOnly() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("svar-mailbox-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let mailbox = FileMailbox(directory: folder, from: "svar@svar.test")
        let messages = (1...3).map {
            OutgoingMessage(
                channel: .email, recipient: "p\($0)@example.no", subject: "S", text: "link https://svar.test/a/T\($0)",
                html: "<p>x</p>", messageId: "<m\($0)@svar.test>")
        }
        #expect(await mailbox.deliver(messages) == [.sent, .sent, .sent])
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(files.count == 3 && files.allSatisfy { $0.hasSuffix(".eml") }, "\(files)")
        for (index, file) in files.enumerated() {
            let raw = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            #expect(raw.contains("Message-ID: <m\(index + 1)@svar.test>"))
            #expect(raw.hasPrefix("From: svar@svar.test\r\n"))
            let attributes = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(file).path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        }
        let all = try files.map { try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8) }.joined()
        #expect((1...3).allSatisfy { all.contains("https://svar.test/a/T\($0)") && all.contains("To: p\($0)@example.no") })
    }

    @Test func anUnwritableFolderIsATransientFailureNotALoss() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("svar-not-a-folder-\(UUID().uuidString)")
        try Data("x".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let mailbox = FileMailbox(directory: file, from: "svar@svar.test")
        let outcome = await mailbox.deliver([
            OutgoingMessage(channel: .email, recipient: "a@b.no", subject: "s", text: "t", messageId: "<a@b>")
        ])
        guard case .transient? = outcome.first else {
            Issue.record("expected a transient failure, got \(outcome)")
            return
        }
    }
}
