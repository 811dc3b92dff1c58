import Foundation

extension SvarConfiguration {
    /// The longest `SVAR_CONTACT_TEXT`, in characters: one short line in a callout a patient reads on a phone.
    public static let contactTextLimit = 200

    /// Checks `SVAR_CONTACT_TEXT` before it reaches a patient's page. It is shown as text (HTML-escaped), but a
    /// control character (a line break the page would not show), a format character (a bidirectional override
    /// that reorders a phone number on screen) or a private-use character (the step pages' skeleton markers)
    /// would make the line say something else than the installer wrote, so each stops start-up instead.
    /// `SVAR_ACCESSIBILITY_CONTACT`, `SVAR_SENDER_NAME` and the rights page's texts are checked the same way, under
    /// their own names (the rights page's with a longer `limit`).
    static func checkedContactText(
        _ text: String, variable: String = "SVAR_CONTACT_TEXT", limit: Int = contactTextLimit
    ) throws(ConfigurationProblem) -> String {
        guard text.count <= limit else {
            throw ConfigurationProblem(variable: variable, reason: "is \(text.count) characters long; at most \(limit) are allowed")
        }
        guard !text.allSatisfy(\.isWhitespace) else {
            throw ConfigurationProblem(variable: variable, reason: "holds only spaces; leave it unset instead")
        }
        let refused: Set<Unicode.GeneralCategory> = [.control, .format, .privateUse, .surrogate, .unassigned]
        if let scalar = text.unicodeScalars.first(where: { refused.contains($0.properties.generalCategory) }) {
            let code = String(scalar.value, radix: 16, uppercase: true)
            let position = text.unicodeScalars.prefix { $0 != scalar }.count + 1
            throw ConfigurationProblem(
                variable: variable,
                reason: "character \(position) is U+\(String(repeating: "0", count: max(0, 4 - code.count)))\(code), "
                    + "a control, format or private-use character; write the line as plain text")
        }
        return text
    }

    /// The longest `SVAR_SENDER_NAME`: a mail list shows little more.
    public static let senderNameLimit = 64

    /// Checks `SVAR_SENDER_NAME` as the contact line is checked (no control, format or private-use character) and
    /// refuses `<`, `>` and `@`, which would make the name look like another address.
    static func checkedSenderName(_ text: String) throws(ConfigurationProblem) -> String {
        let variable = "SVAR_SENDER_NAME"
        let name = try checkedContactText(text.trimmingCharacters(in: .whitespaces), variable: variable)
        guard name.count <= senderNameLimit else {
            throw ConfigurationProblem(
                variable: variable, reason: "is \(name.count) characters long; at most \(senderNameLimit) are allowed")
        }
        guard !name.contains(where: { "<>@".contains($0) }) else {
            throw ConfigurationProblem(variable: variable, reason: "must be a name without <, > or @ (the address is SVAR_MAIL_FROM)")
        }
        return name
    }
}
