/// The units whose patients a read may return. Every store read that hands patient data to a clinician or an
/// API caller takes one, so it cannot be forgotten; in the web layer only `Access` makes one, from the
/// authenticated principal.
public struct Scope: Sendable, Equatable {
    /// Nil means every unit: registry staff, the installation's own API token, and Svar's workers.
    public let units: Set<String>?

    private init(units: Set<String>?) { self.units = units }

    /// Every unit (the registry-wide roles, the installation token, the workers and the command line).
    public static let everyUnit = Scope(units: nil)

    /// Exactly these units (an empty set sees nothing).
    public static func only(_ units: Set<String>) -> Scope { Scope(units: units) }

    public func covers(unit: String) -> Bool { units?.contains(unit) ?? true }

    /// The units for an SQL `IN (…)` list, sorted; nil means no filter.
    public var sortedUnits: [String]? { units?.sorted() }

    /// This scope narrowed to the units a caller asked for (a filter, never a widening).
    public func narrowed(to asked: Set<String>) -> Scope { Scope(units: units.map { $0.intersection(asked) } ?? asked) }
}
