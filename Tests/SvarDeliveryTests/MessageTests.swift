import Foundation
import SvarServices
import Testing

@testable import SvarDelivery

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let sourceWeb = packageRoot.appendingPathComponent("Sources/SvarAssets/web")
/// 2026-12-14 00:00 Oslo (23:00 UTC the day before): a window that closes at midnight.
let closing = Date(timeIntervalSince1970: 1_797_202_800)

/// Decodes RFC 2045 quoted-printable, the inverse of what the mail writer does, to read bodies back.
func decodeQuotedPrintable(_ text: String) -> String {
    var bytes: [UInt8] = []
    let joined = text.replacingOccurrences(of: "=\r\n", with: "")
    var index = joined.utf8.startIndex
    let utf8 = joined.utf8
    while index < utf8.endIndex {
        let byte = utf8[index]
        if byte == UInt8(ascii: "="), let end = utf8.index(index, offsetBy: 3, limitedBy: utf8.endIndex),
            let value = UInt8(String(decoding: utf8[utf8.index(after: index)..<end], as: UTF8.self), radix: 16)
        {
            bytes.append(value)
            index = end
        } else {
            bytes.append(byte)
            index = utf8.index(after: index)
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

@Suite struct MailFormatTests {
    @Test func aMessageIsRFC5322WithPlainAndHTMLPartsInQuotedPrintable() {
        let message = OutgoingMessage(
            channel: .email, recipient: "kari@example.no", subject: "Et spørreskjema til deg",
            text: "Hei på deg,\nlenke: https://svar.test/a/abc_DEF-123\n", html: "<p>Hei på deg</p>",
            messageId: "<m1.0.1@svar.test>")
        let raw = MailFormat.render(message, from: "svar@svar.test", date: Date(timeIntervalSince1970: 1_795_000_000))
        let (head, _) = split(raw)
        #expect(head.contains("Subject: =?utf-8?B?\(Data("Et spørreskjema til deg".utf8).base64EncodedString())?="))
        #expect(head.contains("Date: Wed, 18 Nov 2026 11:06:40 +0000"))
        #expect(head.contains("Message-ID: <m1.0.1@svar.test>"))
        #expect(head.contains("Content-Type: multipart/alternative; boundary=\"=_svar_m101svartest\""))
        #expect(!raw.contains("\n") || raw.replacingOccurrences(of: "\r\n", with: "").contains("\n") == false, "bare LF in the message")
        #expect(raw.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 998 })
        #expect(decodeQuotedPrintable(raw).contains("Hei på deg,\r\nlenke: https://svar.test/a/abc_DEF-123"))
        #expect(raw.contains("https://svar.test/a/abc_DEF-123"), "the link must stay readable in the raw file")
    }

    @Test func longLinesGetSoftBreaksAndDecodeBackExactly() {
        let text = String(repeating: "æøå = a tab\tand trailing space ", count: 12) + " "
        let message = OutgoingMessage(channel: .email, recipient: "a@b.no", subject: "ascii only", text: text, messageId: "<x@y.z>")
        let raw = MailFormat.render(message, from: "s@t.no", date: Date(timeIntervalSince1970: 0))
        let body = split(raw).body
        #expect(body.components(separatedBy: "\r\n").allSatisfy { $0.count <= 76 })
        #expect(decodeQuotedPrintable(body) == text + "\r\n")
        #expect(split(raw).head.contains("Subject: ascii only"))
    }

    func split(_ raw: String) -> (head: String, body: String) {
        let parts = raw.components(separatedBy: "\r\n\r\n")
        return (parts[0], parts.dropFirst().joined(separator: "\r\n\r\n"))
    }
}

@Suite struct MessageComposerTests {
    let composer: MessageComposer

    init() throws {
        composer = try MessageComposer.load(webDirectory: sourceWeb)
    }

    @Test(arguments: ["nb", "nn", "en"])
    func everyKindRendersInEveryLanguageWithTheLinkAndTheClosingDate(_ language: String) {
        let expectedDate = [
            "nb": "13. desember 2026 kl. 23:59", "nn": "13. desember 2026 kl. 23:59", "en": "13 December 2026, 23:59 Norwegian time",
        ]
        for kind in [MessageComposer.Kind.invitation, .reminder] {
            for channel in Channel.allCases {
                let message = composer.compose(
                    kind, language: language, channel: channel,
                    content: .init(link: "https://svar.test/a/TOKEN", closesAt: closing),
                    recipient: "x", messageId: "<id@svar.test>")
                #expect(message.text.contains("https://svar.test/a/TOKEN"), "\(language) \(kind) \(channel)")
                #expect(message.text.contains(expectedDate[language] ?? "?"), "\(language) \(kind) \(channel): \(message.text)")
                #expect(!message.subject.isEmpty && !message.subject.contains("{{"))
                #expect(!message.text.contains("{{") && !message.text.contains("&#"), "unrendered or escaped text: \(message.text)")
                if channel == .email {
                    let html = message.html ?? ""
                    #expect(html.contains("href=\"https://svar.test/a/TOKEN\""))
                    #expect(html.contains("lang=\"\(language)\""))
                } else {
                    #expect(message.html == nil)
                    #expect(message.text.count <= 306, "an SMS should fit in two segments: \(message.text.count) characters")
                }
            }
        }
        let code = composer.compose(
            .code, language: language, channel: .sms, content: .init(code: "042917"), recipient: "x", messageId: "<c@s.t>")
        #expect(code.text.contains("042917") && code.text.contains("15"))
    }

    /// Every message links the rights page in the patient's language (§ 3-5: how to say no without the link). With
    /// a link of real length (103 characters of token) an invitation SMS then takes three segments, not two: the
    /// price of saying where the patient's rights are in the message itself.
    @Test(arguments: ["nb", "nn", "en"])
    func everyMessageLinksTheRightsPageInItsLanguage(_ language: String) {
        var composer = composer
        composer.rightsURL = "https://svar.helse-example.no/rettigheter"
        let rights = "https://svar.helse-example.no/rettigheter?lang=\(language)"
        let link = "https://svar.helse-example.no/a/" + String(repeating: "T", count: 103)
        for kind in MessageComposer.Kind.allCases {
            for channel in Channel.allCases {
                let message = composer.compose(
                    kind, language: language, channel: channel, content: .init(link: link, closesAt: closing, code: "042917"),
                    recipient: "x", messageId: "<r@svar.test>")
                if channel == .sms, kind == .code {
                    // The code's SMS stays the code alone: one short line, nothing else to tap.
                    #expect(!message.text.contains(rights))
                    continue
                }
                #expect(message.text.contains(rights), "\(language) \(kind) \(channel): \(message.text)")
                if channel == .sms { #expect(message.text.count <= 459, "\(language) \(kind): \(message.text.count) characters") }
                if channel == .email { #expect(message.html?.contains(#"<a href="\#(rights)""#) == true, "\(language) \(kind)") }
            }
        }
        // Without a public address the paragraph is left out, not rendered empty.
        let bare = self.composer.compose(
            .invitation, language: language, channel: .email, content: .init(link: link, closesAt: closing), recipient: "x",
            messageId: "<b@svar.test>")
        #expect(!bare.text.contains("rettigheter") && !bare.text.contains("{{"))
    }

    @Test func anUnknownLanguageFallsBackToBokmal() {
        let message = composer.compose(
            .invitation, language: "se", channel: .email, content: .init(link: "L", closesAt: closing),
            recipient: "x", messageId: "<i@s.t>")
        #expect(message.subject == "Et spørreskjema til deg")
    }

    /// A message can be read by others (a shared phone, a work mailbox): it must not reveal care.
    @Test func noTemplateNamesAUnitADiagnosisOrASensitiveWord() throws {
        let sensitive = [
            "rus", "avhengig", "psykiatri", "psykisk", "diagnose", "behandling", "klinikk", "poliklinikk", "sykehus",
            "alkohol", "narkotika", "dop", "legemiddel", "lar", "tsb", "kvarus", "forløp", "addiction", "psychiatr",
            "substance", "treatment", "clinic", "hospital", "diagnos", "drug", "alcohol", "rehab", "abuse", "misbruk",
        ]
        let folder = sourceWeb.appendingPathComponent("messages")
        let files = try FileManager.default.subpathsOfDirectory(atPath: folder.path).filter {
            $0.hasSuffix(".mustache") || $0.hasSuffix(".json")
        }
        #expect(files.count == 20)
        for file in files {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8).lowercased()
            let words = text.split { !$0.isLetter }.map(String.init)
            for term in sensitive {
                #expect(!words.contains { $0.hasPrefix(term) }, "messages/\(file) contains a word starting with '\(term)'")
            }
        }
    }

    /// The templates can only say what the composer gives them: link, closing date, code and its minutes, the
    /// questionnaire's estimated minutes —
    /// never a unit, a milestone or an instrument name.
    @Test func templatesUseOnlyTheNeutralVariables() throws {
        let folder = sourceWeb.appendingPathComponent("messages")
        let allowed: Set<String> = [
            "link", "closes", "code", "minutes", "questionnaireMinutes", "lang", "subject", "paragraphs", "isLink", "text", "linkLabel",
            "lines", ".", "rights", "rightsURL",
        ]
        for file in try FileManager.default.subpathsOfDirectory(atPath: folder.path) where file.hasSuffix(".mustache") {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            let tags = text.components(separatedBy: "{{").dropFirst().compactMap { $0.components(separatedBy: "}}").first }
                .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "{}#^/ ")) }
            #expect(!tags.isEmpty || !file.contains("/"), "messages/\(file) has no variables")
            for tag in tags { #expect(allowed.contains(tag), "messages/\(file) uses {{\(tag)}}") }
        }
    }

    @Test func theSensitiveWordCheckWouldCatchAWord() {
        let words = "Din behandling ved rusklinikken".lowercased().split { !$0.isLetter }.map(String.init)
        #expect(words.contains { $0.hasPrefix("rus") })
    }
}

@Suite struct SettingsTests {
    @Test func smtpURLsParseWithCredentialsApartFromTheURL() throws {
        let s = try SMTPSettings(url: "smtp://svar%40h:p%3Ass@mail.h.no:2525", from: "svar@h.no")
        #expect(
            s.serverURL == "smtp://mail.h.no:2525" && s.username == "svar@h" && s.password == "p:ss" && s.security == .startTLSWhenOffered)
        let t = try SMTPSettings(url: "smtps://[::1]", from: "svar@h.no")
        #expect(t.serverURL == "smtps://[::1]:465" && t.security == .implicitTLS && t.username == nil)
    }

    @Test(arguments: [
        ("http://mail.h.no", "svar@h.no", "SVAR_SMTP_URL"), ("smtp://", "svar@h.no", "SVAR_SMTP_URL"),
        ("smtp://u@mail.h.no", "svar@h.no", "SVAR_SMTP_URL"), ("smtp://mail.h.no/x", "svar@h.no", "SVAR_SMTP_URL"),
        ("smtp://mail.h.no", "not an address", "SVAR_MAIL_FROM"), ("smtp://mail.h.no", "Svar <svar@h.no>", "SVAR_MAIL_FROM"),
    ])
    func badSMTPSettingsNameTheVariable(_ url: String, _ from: String, _ variable: String) {
        #expect { try SMTPSettings(url: url, from: from) } throws: { ($0 as? DeliveryConfigurationError)?.variable == variable }
    }

    @Test func tlsIsRequiredUnlessTheServerIsLoopbackOrItIsTurnedOffExplicitly() throws {
        #expect(try SMTPSettings(url: "smtp://mail.h.no", from: "svar@h.no").requiresTLS, "a remote relay: STARTTLS must succeed")
        #expect(try SMTPSettings(url: "smtp://127.0.0.1:25", from: "svar@h.no").requiresTLS == false)
        #expect(try SMTPSettings(url: "smtp://[::1]:25", from: "svar@h.no").requiresTLS == false)
        #expect(try SMTPSettings(url: "smtp://u:p@127.0.0.1:25", from: "svar@h.no").requiresTLS, "a password never goes in clear")
        #expect(try SMTPSettings(url: "smtp://127.0.0.1", from: "svar@h.no", tls: "required").requiresTLS)
        #expect(try SMTPSettings(url: "smtp://mail.h.no", from: "svar@h.no", tls: "off").requiresTLS == false)
        #expect(try SMTPSettings(url: "smtps://mail.h.no", from: "svar@h.no", tls: "off").requiresTLS, "smtps is TLS whatever the setting")
        #expect { try SMTPSettings(url: "smtp://mail.h.no", from: "svar@h.no", tls: "maybe") } throws: {
            ($0 as? DeliveryConfigurationError)?.variable == "SVAR_SMTP_TLS"
        }
    }

    @Test func aPeersRetryAfterIsCappedAtAnHour() {
        #expect(GatewayNotifier.retryAfter("120") == 120)
        #expect(GatewayNotifier.retryAfter("86400") == 3600)
        #expect(GatewayNotifier.retryAfter("Wed, 21 Oct 2099 07:28:00 GMT") == 3600)
        #expect(GatewayNotifier.retryAfter("soon") == nil)
    }

    @Test func aPasswordNeverAppearsInAnError() {
        do {
            _ = try SMTPSettings(url: "ftp://u:secret@h.no", from: "a@b.no")
            Issue.record("accepted ftp")
        } catch {
            #expect(!error.description.contains("secret"))
        }
    }

    @Test func gatewaySettingsCheckTheURLHeaderAndBody() throws {
        #expect(throws: DeliveryConfigurationError.self) { try GatewaySettings(url: "http://sms.example.com/send") }
        #expect(throws: DeliveryConfigurationError.self) { try GatewaySettings(url: "https://sms.h.no", header: "no colon") }
        #expect(throws: DeliveryConfigurationError.self) { try GatewaySettings(url: "https://sms.h.no", body: #"{"to": {{to}} }"#) }
        let s = try GatewaySettings(
            url: "http://127.0.0.1:9/send", header: "Authorization: Bearer abc", body: #"{"msisdn":"{{to}}","body":"{{text}}"}"#)
        #expect(s.header?.name == "Authorization" && s.header?.value == "Bearer abc")
    }
}

@Suite struct DeliveryPolicyTests {
    @Test func backoffDoublesWithJitterUpToTheCapAndHonoursRetryAfter() {
        let policy = DeliveryPolicy()
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil, random: 0) == 30)
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil, random: 1) == 60)
        #expect(policy.delay(afterAttempt: 3, retryAfter: nil, random: 0.5) == 180)
        #expect(policy.delay(afterAttempt: 30, retryAfter: nil, random: 1) == 6 * 3600)
        #expect(policy.delay(afterAttempt: 1, retryAfter: 600, random: 1) == 600)
    }
}
