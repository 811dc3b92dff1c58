import Foundation
import SvarDelivery

/// The notifiers and policy of this installation, from the environment (README: configuration table).
/// Without `SVAR_SMTP_URL`, e-mail goes to the file mailbox; without `SVAR_SMS_URL`, there is no SMS.
public struct DeliveryConfiguration: Sendable {
    public var email: any Notifier
    public var sms: GatewayNotifier?
    public var policy: DeliveryPolicy
    public var mailFrom: String
    /// Where the file mailbox writes, when it is the e-mail notifier.
    public var mailboxDirectory: URL?

    public var notifiers: [any Notifier] { [email] + (sms.map { [$0] } ?? []) }
    /// The right-hand side of Message-IDs: the sender's domain.
    public var messageDomain: String { mailFrom.split(separator: "@").last.map(String.init) ?? "svar.invalid" }

    public static func fromEnvironment(_ env: [String: String], workingDirectory: URL) throws(DeliveryConfigurationError)
        -> DeliveryConfiguration
    {
        func value(_ key: String) -> String? {
            guard let v = env[key]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
            return v
        }
        var policy = DeliveryPolicy()
        if let order = value("SVAR_CHANNEL_ORDER") {
            let names = order.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let channels = names.compactMap(Channel.init(rawValue:))
            guard channels.count == names.count, !channels.isEmpty, Set(channels).count == channels.count else {
                throw DeliveryConfigurationError(
                    variable: "SVAR_CHANNEL_ORDER", reason: "'\(order)' is not a list of sms, email (each once)")
            }
            policy.channelOrder = channels
        }
        let email: any Notifier
        var mailbox: URL?
        let mailFrom: String
        if let url = value("SVAR_SMTP_URL") {
            guard let from = value("SVAR_MAIL_FROM") else {
                throw DeliveryConfigurationError(variable: "SVAR_MAIL_FROM", reason: "is required with SVAR_SMTP_URL (the sender address)")
            }
            let settings = try SMTPSettings(url: url, from: from, caFile: value("SVAR_SMTP_CA_FILE"), tls: value("SVAR_SMTP_TLS"))
            email = try SMTPNotifier(settings: settings)
            mailFrom = settings.from
        } else {
            mailFrom = value("SVAR_MAIL_FROM") ?? "svar@localhost.localdomain"
            guard SMTPSettings.isPlainAddress(mailFrom) else {
                throw DeliveryConfigurationError(variable: "SVAR_MAIL_FROM", reason: "'\(mailFrom)' is not an e-mail address")
            }
            let folder = value("SVAR_MAILBOX_DIR") ?? "mailbox"
            let directory = folder.hasPrefix("/") ? URL(fileURLWithPath: folder) : workingDirectory.appendingPathComponent(folder)
            mailbox = directory.standardizedFileURL
            email = FileMailbox(directory: directory.standardizedFileURL, from: mailFrom)
        }
        var sms: GatewayNotifier?
        if let url = value("SVAR_SMS_URL") {
            let settings = try GatewaySettings(
                url: url, header: value("SVAR_SMS_HEADER"), body: value("SVAR_SMS_BODY"),
                caFile: value("SVAR_SMS_CA_FILE"))
            do {
                sms = try GatewayNotifier(settings: settings)
            } catch {
                throw DeliveryConfigurationError(variable: "SVAR_SMS_CA_FILE", reason: "not a PEM certificate: \(error)")
            }
        }
        return DeliveryConfiguration(email: email, sms: sms, policy: policy, mailFrom: mailFrom, mailboxDirectory: mailbox)
    }

    public func shutdown() async {
        try? await sms?.shutdown()
    }
}
