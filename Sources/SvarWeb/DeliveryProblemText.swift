import Foundation

/// A delivery failure as the worklist shows it: what was tried and why it failed, in the clinician's language,
/// with the technical reason beside it for the IT staff. The delivery pass records reasons as
/// "channel: what happened" in English (they go to the log too); only the known shapes are put in words, anything
/// else is shown as "delivery failed" with its technical text.
enum DeliveryProblemText {
    static func describe(_ reason: String, _ t: ClinicianTexts) -> [String: String] {
        var channel = ""
        var rest = reason
        if let colon = reason.firstIndex(of: ":"), ["email", "sms"].contains(String(reason[..<colon])) {
            channel = String(reason[..<colon])
            rest = reason[reason.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let channelName = channel == "sms" ? t["channelSms"] : channel == "email" ? t["channelEmail"] : ""
        let (key, values) = classify(rest, channel: channel)
        return ["text": t(key, values.merging(["channel": channelName]) { $1 }), "detail": reason]
    }

    /// The text key for a reason (without its channel), and the values it names.
    static func classify(_ reason: String, channel: String) -> (key: String, values: [String: String]) {
        switch reason {
        case "no contact details on record": return ("deliveryNoContact", [:])
        case "no e-mail address on record": return ("deliveryNoEmail", [:])
        case "no mobile number on record": return ("deliveryNoMobile", [:])
        case "not configured in this installation": return ("deliveryChannelOff", [:])
        case "the e-mail address is not valid": return ("deliveryBadEmail", [:])
        case "the mobile number is not valid": return ("deliveryBadMobile", [:])
        default: break
        }
        if let match = reason.prefixMatch(of: /gave up after (\d+) attempts/) {
            return ("deliveryGaveUp", ["count": String(match.1)])
        }
        if reason.hasPrefix("SMTP 5") || reason.hasPrefix("gateway refused") { return ("deliveryRefused", [:]) }
        if reason.hasPrefix("not prepared") { return ("deliveryNotPrepared", [:]) }
        return ("deliveryFailed", [:])
    }
}
