/// Every instrument Svar knows, checked once at start-up and then shared read-only.
public struct InstrumentCatalogue: Sendable {
    public let instruments: [Instrument]

    public init(_ definitions: [InstrumentDefinition]) throws(DefinitionError) {
        var built: [Instrument] = []
        for definition in definitions {
            built.append(try definition.instrument())
        }
        var valueSetIds = Set<String>()
        for instrument in built {
            for set in instrument.valueSets where !valueSetIds.insert(set.id).inserted {
                throw DefinitionError(
                    file: "\(instrument.id)/valuesets", field: "id", reason: "value set id '\(set.id)' is used by two instruments")
            }
        }
        instruments = built.sorted { $0.id < $1.id }
    }

    public func instrument(_ id: String) -> Instrument? { instruments.first { $0.id == id } }

    /// Every value set with the instrument it belongs to, ordered by instrument then id.
    public var valueSets: [(instrument: String, valueSet: ValueSet)] {
        instruments.flatMap { instrument in instrument.valueSets.map { (instrument.id, $0) } }
    }
}
