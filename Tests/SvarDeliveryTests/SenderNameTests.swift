import Foundation
import Logging
import SvarAssets
import SvarDomain
import SvarServices
import Testing

@testable import SvarDelivery

/// The e-mail's sender name comes from `SVAR_SENDER_NAME` (neutral "Svar" by default) and reaches the `From:`
/// header of the message as composed and written; the invitation's time estimate is the one computed from the
/// questions, and no text calls the questionnaire short.
@Suite struct SenderNameTests {
    let composer: MessageComposer

    init() throws {
        composer = try MessageComposer.load(webDirectory: sourceWeb)
    }

    func header(_ composer: MessageComposer, from: String = "svar@h.no") -> String {
        let message = composer.compose(
            .invitation, language: "nb", channel: .email, content: .init(link: "https://svar.test/a/T", closesAt: closing),
            recipient: "kari@example.no", messageId: "<m@h.no>")
        let raw = MailFormat.render(message, from: from, date: Date(timeIntervalSince1970: 0))
        return raw.components(separatedBy: "\r\n\r\n").first ?? ""
    }

    @Test func theComposedMessageIsFromTheConfiguredName() throws {
        #expect(header(composer).hasPrefix("From: Svar <svar@h.no>\r\n"), "\(header(composer))")
        var named = composer
        named.senderName = try SvarConfiguration.fromEnvironment(["SVAR_SENDER_NAME": "Spørreskjema fra Helse Vest"]).senderName
        let encoded = "=?utf-8?B?\(Data("Spørreskjema fra Helse Vest".utf8).base64EncodedString())?="
        #expect(header(named).hasPrefix("From: \(encoded) <svar@h.no>\r\n"), "\(header(named))")
        named.senderName = "Svar (Helse, Vest)"
        #expect(header(named).hasPrefix(#"From: "Svar (Helse, Vest)" <svar@h.no>"#))
        // An SMS has no sender name to carry.
        let sms = composer.compose(
            .invitation, language: "nb", channel: .sms, content: .init(link: "L"), recipient: "x", messageId: "<s@h>")
        #expect(sms.senderName == nil)
    }

    @Test func theDefaultSenderNameIsNeutralAndBadNamesStopStartUp() throws {
        #expect(try SvarConfiguration.fromEnvironment([:]).senderName == "Svar")
        #expect(try SvarConfiguration.fromEnvironment(["SVAR_SENDER_NAME": "  Svar Nord  "]).senderName == "Svar Nord")
        for bad in ["Svar <evil@x.no>", "a@b", "line\nbreak", String(repeating: "x", count: 65), "\u{202E}rav"] {
            #expect(throws: ConfigurationProblem.self, "\(bad.debugDescription)") {
                _ = try SvarConfiguration.fromEnvironment(["SVAR_SENDER_NAME": bad])
            }
        }
    }

    @Test(arguments: ["nb", "nn", "en"])
    func theInvitationTellsTheComputedTimeAndNeverCallsItShort(_ language: String) {
        let minutes = TimeEstimate.minutes(items: 42)
        for channel in Channel.allCases {
            let message = composer.compose(
                .invitation, language: language, channel: channel,
                content: .init(link: "https://svar.test/a/T", closesAt: closing, questionnaireMinutes: minutes), recipient: "x",
                messageId: "<m@h.no>")
            #expect(message.text.contains(" \(minutes) minut"), "\(language) \(channel): \(message.text)")
            let words = message.text.lowercased().split { !$0.isLetter }
            #expect(!words.contains("kort") && !words.contains("short"), "\(language) \(channel)")
            let unknown = composer.compose(
                .invitation, language: language, channel: channel, content: .init(link: "L", closesAt: closing), recipient: "x",
                messageId: "<m@h.no>")
            #expect(!unknown.text.contains("minut"), "no estimate without one: \(unknown.text)")
        }
    }
}

/// Through the delivery pass: the e-mail written for a queued invitation is from the configured name and says
/// the time its instruments take (the fixture's invitation is EQ-5D-5L alone: 6 questions, 2 minutes).
@Suite struct DeliveredInvitationTests {
    @Test func theDeliveredInvitationCarriesTheSenderNameAndTheComputedTime() async throws {
        let f = try await DeliveryFixture.make()
        let folder = temporaryFolder("mailbox-sender")
        defer { try? FileManager.default.removeItem(at: folder) }
        var composer = try MessageComposer.load(webDirectory: sourceWeb)
        composer.senderName = "Svar Vest"
        let catalogue = try InstrumentLoader.catalogue(instruments: packageRoot.appendingPathComponent("Sources/SvarAssets/instruments"))
        let questions = try #require(catalogue.instrument("eq5d-5l")).questionnaire.questions.count
        let pass = DeliveryPass(
            store: f.store, vault: f.vault, links: f.links, composer: composer,
            notifiers: [FileMailbox(directory: folder, from: "svar@svar.test")], messageDomain: "svar.test",
            logger: Logger(label: "test"), random: { 0.5 }, catalogue: catalogue)
        #expect(try await pass.run(now: t0).sent == 1)
        let raw = try #require(emlFiles(folder).first)
        #expect(raw.hasPrefix("From: Svar Vest <svar@svar.test>\r\n"), "\(raw.prefix(200))")
        #expect(decodeQuotedPrintable(raw).contains("Det tar omtrent \(TimeEstimate.minutes(items: questions)) minutter."))
        #expect(TimeEstimate.minutes(items: questions) == 2)
    }
}
