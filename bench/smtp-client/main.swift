// Sends N generated invitations through Svar's SMTP notifier to a local server, twice: all of them over
// one reused connection (one batch), then one new connection per message. Prints messages/s for both.
// Usage: svar-bench-smtp SMTP_URL N   (run by bench/smtp, which starts the local aiosmtpd)
import Foundation
import SvarDelivery

@main
struct SMTPBenchmark {
    static func main() async throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 3, let count = Int(arguments[2]), count > 0 else {
            FileHandle.standardError.write(Data("usage: svar-bench-smtp SMTP_URL N\n".utf8))
            exit(2)
        }
        let notifier = try SMTPNotifier(settings: try SMTPSettings(url: arguments[1], from: "svar@bench.invalid"))
        func messages(_ run: String) -> [OutgoingMessage] {
            (0..<count).map { i in
                OutgoingMessage(
                    channel: .email, recipient: "patient\(i)@bench.invalid", subject: "Et spørreskjema til deg",
                    text: "Hei,\n\nTrykk på lenken for å svare:\nhttps://svar.bench/a/\(run)-\(i)\n", html: "<p>Hei</p>",
                    messageId: "<\(run).\(i)@bench.invalid>")
            }
        }
        print("mode".padding(toLength: 27, withPad: " ", startingAt: 0) + "  messages    seconds  connections   messages/s")
        // One batch: libcurl keeps the connection open between messages.
        var start = Date()
        let (outcomes, connections) = await notifier.deliverCountingConnections(messages("reuse"))
        report("one reused connection", outcomes, connections, Date().timeIntervalSince(start))
        // One batch per message: a new connection (and SMTP greeting, EHLO) every time.
        start = Date()
        var single: [DeliveryOutcome] = []
        var opened = 0
        for message in messages("new") {
            let (outcome, connections) = await notifier.deliverCountingConnections([message])
            single += outcome
            opened += connections
        }
        report("new connection per message", single, opened, Date().timeIntervalSince(start))
    }

    static func report(_ mode: String, _ outcomes: [DeliveryOutcome], _ connections: Int, _ seconds: TimeInterval) {
        let sent = outcomes.filter { $0 == .sent }.count
        print(String(format: "%-26@ %10d %10.2f %12d %12.0f", mode as NSString, sent, seconds, connections, Double(sent) / seconds))
        if sent != outcomes.count {
            FileHandle.standardError.write(
                Data("\(mode): \(outcomes.count - sent) not sent, e.g. \(outcomes.first { $0 != .sent }.map { "\($0)" } ?? "")\n".utf8))
            exit(1)
        }
    }
}
