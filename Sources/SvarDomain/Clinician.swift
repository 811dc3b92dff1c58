/// What a person may do in Svar's clinician pages and API (the Kvarus roles). Each capability is
/// named, so a page asks "may this role see names?" rather than comparing roles.
public enum Role: String, Sendable, CaseIterable, Codable {
    /// A clinician: the patients of the units they work for.
    case behandler
    /// The unit's Kvarus contact: as a clinician, and manages the unit's patients (sees identity numbers).
    case kvarusKontakt = "kvarus-kontakt"
    /// The legal entity's registry contact: its units and every unit under them; figures, not names.
    case registerkontakt
    /// Runs the registry: every unit's figures, forwarding and the disclosure log; no names.
    case registryAdmin = "registry-admin"

    /// Name and contact details (clinical follow-up needs them).
    public var seesNames: Bool { self == .behandler || self == .kvarusKontakt }
    /// The identity number itself.
    public var seesIdentityNumbers: Bool { self == .kvarusKontakt }
    /// Enrol patients, record pathway events, mark follow-up contacts, issue links.
    public var treatsPatients: Bool { self == .behandler || self == .kvarusKontakt }
    /// Individual answers and scores.
    public var seesResults: Bool { self == .behandler || self == .kvarusKontakt }
    /// Units below the assigned ones count as assigned.
    public var includesSubunits: Bool { self == .registerkontakt }
    /// Every unit, and the registry's own lists (dead letters, disclosures, deletions).
    public var runsRegistry: Bool { self == .registryAdmin }
}

/// The person behind a request, with the units their scope covers (sub-units already expanded).
public struct Clinician: Sendable, Equatable {
    public var username: String
    public var role: Role
    /// Units in scope; ignored for a role that runs the registry (it sees every unit).
    public var units: Set<String>
    /// The language of their pages as they chose it (`nb`, `nn` or `en`); nil until they choose (bokmål).
    public var language: String?

    public init(username: String, role: Role, units: Set<String>, language: String? = nil) {
        self.username = username
        self.role = role
        self.units = units
        self.language = language
    }

    public func covers(unit: String) -> Bool { scope.covers(unit: unit) }
    /// What this person's reads may return.
    public var scope: Scope { role.runsRegistry ? .everyUnit : .only(units) }
}
