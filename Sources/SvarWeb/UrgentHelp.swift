import Foundation

/// The urgent-help callout (`web/templates/urgent-help.mustache`): answers are not read as they arrive, and
/// where to get help now — 113, the legevakt's 116 117 and the installation's own line (`SVAR_CONTACT_TEXT`).
/// A patient meets it on the landing page, on every step holding a question the instrument's `safety.json`
/// marks as sensitive, and on the thank-you page: where someone might otherwise wait for a reply that does not
/// come.
enum UrgentHelp {
    /// The template context that shows the callout (the texts are the pages' own, `t.urgentHelp…`).
    static func context(contactText: String?) -> [String: Any] {
        var help: [String: Any] = ["shown": true]
        if let contactText { help["contactText"] = contactText }
        return ["urgentHelp": help]
    }
}
