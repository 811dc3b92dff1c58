import Foundation

extension SvarConfiguration {
    /// The longest `SVAR_CONTACT_TEXT`, in characters: one short line in a callout a patient reads on a phone.
    public static let contactTextLimit = 200

    /// Checks `SVAR_CONTACT_TEXT` before it reaches a patient's page. It is shown as text (HTML-escaped), but a
    /// control character (a line break the page would not show), a format character (a bidirectional override
    /// that reorders a phone number on screen) or a private-use character (the step pages' skeleton markers)
    /// would make the line say something else than the installer wrote, so each stops start-up instead.
    static func checkedContactText(_ text: String) throws(ConfigurationProblem) -> String {
        let variable = "SVAR_CONTACT_TEXT"
        guard text.count <= contactTextLimit else {
            throw ConfigurationProblem(
                variable: variable, reason: "is \(text.count) characters long; at most \(contactTextLimit) are allowed")
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
}
