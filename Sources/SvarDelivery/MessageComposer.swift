import Foundation
import Mustache

/// Turns an outbox item into the words a patient receives, from the per-language Mustache templates under
/// `web/messages/`. The texts are deliberately neutral: they name no unit, diagnosis or treatment, because
/// an e-mail or SMS can be read by others (a shared phone, a work mailbox).
public struct MessageComposer: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case invitation, reminder, code
    }

    public static let languages = ["nb", "nn", "en"]

    /// Text templates by "language/kind", their subjects, SMS templates and per-language labels.
    let bodies: [String: MustacheTemplate]
    let subjects: [String: MustacheTemplate]
    let sms: [String: MustacheTemplate]
    let layout: MustacheTemplate
    let labels: [String: Labels]
    /// The name e-mails are sent under (`SVAR_SENDER_NAME`, "Svar" by default): like the texts, it names no unit
    /// or treatment, since it shows in a shared inbox's list before anyone opens the message.
    public var senderName = "Svar"
    /// The rights page (`<SVAR_PUBLIC_URL>/rettigheter`): every message links it in the patient's language, so
    /// anyone can read about the registry and how to say no (forskrift om medisinske kvalitetsregistre § 3-5)
    /// without opening their own link. Nil leaves the paragraph out (a composer without a public address).
    public var rightsURL: String?

    struct Labels: Decodable, Sendable {
        let linkLabel: String
        let months: [String]
        let dateFormat: String
    }

    /// Reads and checks every template: each language has every kind, for e-mail (first line `Subject: …`)
    /// and for SMS. A missing or malformed file stops start-up with its path.
    public static func load(webDirectory: URL) throws -> MessageComposer {
        let folder = webDirectory.appendingPathComponent("messages")
        func read(_ name: String) throws -> String {
            let url = folder.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) else {
                throw DeliveryConfigurationError(variable: "SVAR_WEB_DIR", reason: "cannot read \(url.path)")
            }
            return text
        }
        var bodies: [String: MustacheTemplate] = [:]
        var subjects: [String: MustacheTemplate] = [:]
        var sms: [String: MustacheTemplate] = [:]
        for language in languages {
            for kind in Kind.allCases {
                let key = "\(language)/\(kind.rawValue)"
                let text = try read("\(key).mustache")
                guard let newline = text.firstIndex(of: "\n"), text.hasPrefix("Subject: ") else {
                    throw DeliveryConfigurationError(
                        variable: "SVAR_WEB_DIR", reason: "messages/\(key).mustache must start with a 'Subject: ' line")
                }
                subjects[key] = try MustacheTemplate(string: String(text[text.index(text.startIndex, offsetBy: 9)..<newline]))
                bodies[key] = try MustacheTemplate(string: String(text[text.index(after: newline)...]))
                sms[key] = try MustacheTemplate(string: try read("\(key).sms.mustache").trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
        let labels = try JSONDecoder().decode([String: Labels].self, from: Data(try read("labels.json").utf8))
        for language in languages where labels[language]?.months.count != 12 {
            throw DeliveryConfigurationError(
                variable: "SVAR_WEB_DIR", reason: "messages/labels.json: '\(language)' needs a link label and 12 month names")
        }
        return MessageComposer(
            bodies: bodies, subjects: subjects, sms: sms, layout: try MustacheTemplate(string: try read("layout.html.mustache")),
            labels: labels)
    }

    /// What to say: the link and its closing time for invitations and reminders, the code for `code`.
    public struct Content: Sendable {
        public var link: String?
        public var closesAt: Date?
        public var code: String?
        public var codeMinutes: Int
        /// How long the questionnaire takes (`TimeEstimate`), said in the invitation when known; the texts never
        /// call it short, since a long one would then be announced as short.
        public var questionnaireMinutes: Int?
        public init(
            link: String? = nil, closesAt: Date? = nil, code: String? = nil, codeMinutes: Int = 15, questionnaireMinutes: Int? = nil
        ) {
            self.questionnaireMinutes = questionnaireMinutes
            self.link = link
            self.closesAt = closesAt
            self.code = code
            self.codeMinutes = codeMinutes
        }
    }

    public func compose(
        _ kind: Kind, language requested: String, channel: Channel, content: Content,
        recipient: String, messageId: String
    ) -> OutgoingMessage {
        let language = Self.languages.contains(requested) ? requested : "nb"
        let key = "\(language)/\(kind.rawValue)"
        var context: [String: Any] = ["minutes": content.codeMinutes]
        if let link = content.link { context["link"] = link }
        if let code = content.code { context["code"] = code }
        if let rightsURL { context["rights"] = "\(rightsURL)?lang=\(language)" }
        // "about 1 minutes" would read wrong in every language; so short a questionnaire goes without a time.
        if let minutes = content.questionnaireMinutes, minutes > 1 { context["questionnaireMinutes"] = minutes }
        if let closesAt = content.closesAt { context["closes"] = formatClosing(closesAt, language: language) }
        let subject = subjects[key]?.render(context) ?? ""
        switch channel {
        case .sms:
            return OutgoingMessage(
                channel: .sms, recipient: recipient, subject: subject, text: sms[key]?.render(context) ?? "", messageId: messageId)
        case .email:
            let text = bodies[key]?.render(context) ?? ""
            return OutgoingMessage(
                channel: .email, recipient: recipient, subject: subject, text: text,
                html: html(text, subject: subject, language: language, link: content.link, context: context), messageId: messageId,
                senderName: senderName)
        }
    }

    /// The HTML part is the text part laid out: paragraphs, and the link as a large button.
    func html(_ text: String, subject: String, language: String, link: String?, context: [String: Any] = [:]) -> String {
        let paragraphs = text.components(separatedBy: "\n\n").compactMap { block -> [String: Any]? in
            let lines = block.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !lines.isEmpty else { return nil }
            if let link, let index = lines.firstIndex(of: link) {
                // "Open the link:" + the link itself: the lead-in becomes the button's surroundings.
                var items: [[String: Any]] = []
                if index > 0 { items.append(["isLink": false, "lines": Array(lines[..<index])]) }
                items.append(["isLink": true, "text": link, "linkLabel": labels[language]?.linkLabel ?? link])
                return ["group": items]
            }
            // The rights page's address, written out as a plain link after its lead-in (not a second button).
            if let rights = context["rights"] as? String, lines.last == rights {
                return ["isLink": false, "lines": Array(lines.dropLast()), "rightsURL": rights]
            }
            return ["isLink": false, "lines": lines]
        }.flatMap { ($0["group"] as? [[String: Any]]) ?? [$0] }
        return layout.render(["lang": language, "subject": subject, "paragraphs": paragraphs])
    }

    /// The last minute the link works, in Norwegian time and the patient's language ("til og med 12. januar
    /// 2027 kl. 23:59"): a window closing at midnight is shown as the minute before.
    func formatClosing(_ instant: Date, language: String) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Oslo") ?? TimeZone(secondsFromGMT: 3600) ?? .current
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: instant.addingTimeInterval(-60))
        guard let labels = labels[language], let month = parts.month, let day = parts.day, let year = parts.year,
            let hour = parts.hour, let minute = parts.minute
        else { return "" }
        return labels.dateFormat
            .replacingOccurrences(of: "{{day}}", with: String(day))
            .replacingOccurrences(of: "{{month}}", with: labels.months[month - 1])
            .replacingOccurrences(of: "{{year}}", with: String(year))
            .replacingOccurrences(of: "{{time}}", with: String(format: "%02d:%02d", hour, minute))
    }
}
