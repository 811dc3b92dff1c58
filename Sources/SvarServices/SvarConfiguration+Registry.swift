import Foundation

/// What the patient's rights page (`/rettigheter`, forskrift om medisinske kvalitetsregistre § 3-5) says about
/// this installation's registry. Every field is the operator's own text, shown as written in all three languages;
/// an unset one is said plainly on the page ("not filled in by the registry"), never guessed.
public struct RegistryInformation: Sendable, Equatable {
    /// `SVAR_REGISTRY_NAME`
    public var name: String?
    /// `SVAR_REGISTRY_PURPOSE`
    public var purpose: String?
    /// `SVAR_DATA_CONTROLLER`: the institution responsible for the registry (databehandlingsansvarlig).
    public var dataController: String?
    /// `SVAR_REGISTRY_CONTACT`: where to ask for access, reservation or deletion.
    public var contact: String?
    /// `SVAR_RETENTION_TEXT`: how long the answers are kept.
    public var retention: String?
    /// `SVAR_COLLECTED_TEXT`: what is collected, when the registry wants to say more than the fixed wording.
    public var collected: String?
    public init() {}

    /// The variables, in the order the README lists them.
    public static let variables = [
        "SVAR_REGISTRY_NAME", "SVAR_REGISTRY_PURPOSE", "SVAR_DATA_CONTROLLER", "SVAR_REGISTRY_CONTACT", "SVAR_RETENTION_TEXT",
        "SVAR_COLLECTED_TEXT",
    ]
}

extension SvarConfiguration {
    /// The longest registry text, in characters: a short paragraph a patient reads on a phone.
    public static let registryTextLimit = 600

    /// Reads the rights page's texts, each checked like `SVAR_CONTACT_TEXT` (plain text only) under its own name.
    static func registryInformation(_ value: (String) -> String?) throws(ConfigurationProblem) -> RegistryInformation {
        var info = RegistryInformation()
        func read(_ variable: String) throws(ConfigurationProblem) -> String? {
            guard let text = value(variable) else { return nil }
            return try checkedContactText(text, variable: variable, limit: registryTextLimit)
        }
        info.name = try read("SVAR_REGISTRY_NAME")
        info.purpose = try read("SVAR_REGISTRY_PURPOSE")
        info.dataController = try read("SVAR_DATA_CONTROLLER")
        info.contact = try read("SVAR_REGISTRY_CONTACT")
        info.retention = try read("SVAR_RETENTION_TEXT")
        info.collected = try read("SVAR_COLLECTED_TEXT")
        return info
    }
}
