import Foundation
import SvarDomain
import SvarStore

/// Enrols a patient: checks the identity number, seals the identifiers in the vault and finds an existing
/// patient by the keyed hash, so the same person is never enrolled twice.
public struct Enrolment: Sendable {
    public struct Request: Sendable {
        public var identityNumber: String
        public var name: String?
        public var email: String?
        public var mobile: String?
        public var language: String
        public var birthDate: String?
        /// Channel order for this patient, e.g. `["sms", "email"]`.
        public var channels: [String]?
        public init(
            identityNumber: String, name: String? = nil, email: String? = nil, mobile: String? = nil,
            language: String = "nb", birthDate: String? = nil, channels: [String]? = nil
        ) {
            self.channels = channels
            self.identityNumber = identityNumber
            self.name = name
            self.email = email
            self.mobile = mobile
            self.language = language
            self.birthDate = birthDate
        }
    }

    let store: any Store
    let vault: IdentityVault
    let mode: SvarConfiguration.Mode

    public init(store: any Store, vault: IdentityVault, mode: SvarConfiguration.Mode) {
        self.store = store
        self.vault = vault
        self.mode = mode
    }

    /// Enrols the person, or finds them by number. `units` are the registering units: each keeps the identity
    /// as it typed it (for a known person, the typed fields replace that unit's earlier ones and empty fields
    /// keep them), so no unit sees what another unit typed. Empty for the installation's own token.
    public func enrol(_ request: Request, units: Set<String> = [], actor: String, at: Date) async throws -> EnrolmentResult {
        if let problem = problems(request).first { throw problem }
        let number = try identityNumber(request.identityNumber)
        // Its first eight characters are the patient's short reference on the clinician pages.
        let id = RecordId.random()
        let identity = Identity(
            identityNumber: number.digits, name: request.name, email: request.email,
            mobile: request.mobile.map(Self.normalisedMobile), birthDate: request.birthDate,
            channels: request.channels)
        let enrolment = PatientEnrolment(
            id: id, language: request.language,
            lookupHash: vault.lookupHash(identityNumber: number.digits),
            sealedIdentity: try vault.seal(identity, patientId: id), units: units)
        let result = try await store.enrolPatient(enrolment, actor: actor, at: at)
        if case .existing(let known) = result, !units.isEmpty {
            let vault = self.vault
            try await store.recordUnitIdentity(patientId: known, units: units, actor: actor, at: at) { current in
                let earlier = try current.map { try vault.open($0, patientId: known) }
                return try vault.seal(identity.keepingEarlier(earlier), patientId: known)
            }
        }
        return result
    }

    /// Every field that is wrong, in the form's order, so that a form can show them all at once; `enrol` refuses
    /// the first.
    public func problems(_ request: Request) -> [InputProblem] {
        var problems: [InputProblem] = []
        if case .failure(let problem) = Result(catching: { () throws(InputProblem) in try identityNumber(request.identityNumber) }) {
            problems.append(problem)
        }
        if !["nb", "nn", "en"].contains(request.language) {
            problems.append(InputProblem(field: "language", reason: "'\(request.language)' is not one of nb, nn, en"))
        }
        if let email = request.email, !Self.looksLikeEmail(email) {
            problems.append(InputProblem(field: "email", reason: "'\(email)' is not an e-mail address"))
        }
        if let mobile = request.mobile, !Self.looksLikeMobile(mobile) {
            problems.append(
                InputProblem(field: "mobile", reason: "a mobile number has 8 digits, or + and 8–15 digits (e.g. +4791234567)"))
        }
        if let channels = request.channels {
            let known = ["sms", "email"]
            if let unknown = channels.first(where: { !known.contains($0) }) {
                problems.append(InputProblem(field: "channels", reason: "'\(unknown)' is not a channel (sms, email)"))
            } else if channels.isEmpty || Set(channels).count != channels.count {
                problems.append(InputProblem(field: "channels", reason: "list each channel at most once, at least one"))
            }
        }
        if let birthDate = request.birthDate, LocalDate(iso: birthDate) == nil {
            problems.append(InputProblem(field: "birthDate", reason: "'\(birthDate)' is not a date YYYY-MM-DD"))
        }
        return problems
    }

    /// The keyed lookup hash of a valid number (the vault's key: never the number itself in a query).
    public func lookupHash(identityNumber text: String) throws(InputProblem) -> [UInt8] {
        vault.lookupHash(identityNumber: try identityNumber(text).digits)
    }

    func identityNumber(_ text: String) throws(InputProblem) -> IdentityNumber {
        do {
            return try IdentityNumber(text, allowSynthetic: mode.allowsSyntheticNumbers)
        } catch {
            throw InputProblem(field: "identityNumber", reason: error.description)
        }
    }

    static func looksLikeEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !parts[1].hasPrefix(".")
            && !parts[1].hasSuffix(".") && text.count <= 254 && !text.contains(where: \.isWhitespace)
    }

    static func looksLikeMobile(_ text: String) -> Bool {
        let compact = text.filter { $0 != " " }
        if compact.hasPrefix("+") {
            let digits = compact.dropFirst()
            return (8...15).contains(digits.count) && digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber)
        }
        return compact.count == 8 && compact.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// Norwegian 8-digit numbers get +47, so every stored number is in international form.
    static func normalisedMobile(_ text: String) -> String {
        let compact = text.filter { $0 != " " }
        return compact.hasPrefix("+") ? compact : "+47" + compact
    }
}

extension Identity {
    /// This registration's fields, with the earlier registration's where this one left a field empty.
    func keepingEarlier(_ earlier: Identity?) -> Identity {
        guard let earlier else { return self }
        return Identity(
            identityNumber: identityNumber, name: name ?? earlier.name, email: email ?? earlier.email,
            mobile: mobile ?? earlier.mobile, birthDate: birthDate ?? earlier.birthDate,
            channels: channels ?? earlier.channels)
    }
}

/// Bad input from a caller: which field, and what is wrong, in words a person understands.
public struct InputProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public let field: String
    public let reason: String
    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }
    public var description: String { "\(field): \(reason)" }
}
