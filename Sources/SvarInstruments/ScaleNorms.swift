import Foundation

/// Population norms for an instrument's scales (`instruments/<instrument>/norms.json`), so a clinician can
/// see a patient's scores next to the general population.
///
/// A scale either has a norm (mean and SD on the instrument's own scoring) or a stated reason why it has
/// none: a norm scored differently (SF-36 pain and general health against RAND-36) must not be drawn as if
/// it were comparable, and a number that was never transcribed must not be made up.
public struct ScaleNorms: Codable, Sendable, Equatable {
    /// The instrument folder these norms belong to, e.g. `rand36`.
    public var instrument: String
    /// The full citation, including the table the numbers come from.
    public var source: String
    /// A short citation for legends, e.g. `Garratt & Stavem 2017`.
    public var shortSource: String
    public var doi: String
    /// Who was surveyed, when, and which subgroup the numbers describe.
    public var population: String
    /// Keyed by the scale ids of the instrument's `scoring.json`.
    public var scales: [String: ScaleNorm]

    public init(
        instrument: String, source: String, shortSource: String, doi: String, population: String,
        scales: [String: ScaleNorm]
    ) {
        self.instrument = instrument
        self.source = source
        self.shortSource = shortSource
        self.doi = doi
        self.population = population
        self.scales = scales
    }

    /// The norm mean for a scale, or nil when there is no comparable norm.
    public func mean(_ scale: String) -> Double? {
        if case .norm(let mean, _) = scales[scale] { return mean }
        return nil
    }

    /// Why a scale has no norm; a scale the file does not list has none on file.
    public func missingReason(_ scale: String) -> ScaleNorm.Reason? {
        switch scales[scale] {
        case .norm: nil
        case .unavailable(let reason, _): reason
        case nil: .noNormOnFile
        }
    }
}

/// One scale's entry: `{"mean": 86.44, "sd": 20.42}` or `{"reason": "notComparable", "note": "…"}`.
public enum ScaleNorm: Codable, Sendable, Equatable {
    case norm(mean: Double, sd: Double)
    case unavailable(reason: Reason, note: String)

    /// Codes rather than prose, so the chart can say it in the reader's language.
    public enum Reason: String, Codable, Sendable, Equatable {
        /// A published norm exists but is scored differently from this instrument.
        case notComparable
        /// A comparable norm may exist but is not in the file yet.
        case noNormOnFile
    }

    enum CodingKeys: String, CodingKey { case mean, sd, reason, note }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let mean = try c.decodeIfPresent(Double.self, forKey: .mean) {
            let sd = try c.decode(Double.self, forKey: .sd)
            guard (0...100).contains(mean) else {
                throw DecodingError.dataCorruptedError(forKey: .mean, in: c, debugDescription: "must be between 0 and 100")
            }
            guard sd >= 0 else {
                throw DecodingError.dataCorruptedError(forKey: .sd, in: c, debugDescription: "must not be negative")
            }
            guard !c.contains(.reason) else {
                throw DecodingError.dataCorruptedError(forKey: .reason, in: c, debugDescription: "a scale with a norm has no reason")
            }
            self = .norm(mean: mean, sd: sd)
        } else {
            guard !c.contains(.sd) else {
                throw DecodingError.dataCorruptedError(forKey: .sd, in: c, debugDescription: "sd without mean")
            }
            let note = try c.decode(String.self, forKey: .note)
            guard !note.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw DecodingError.dataCorruptedError(forKey: .note, in: c, debugDescription: "must say why there is no norm")
            }
            self = .unavailable(reason: try c.decode(Reason.self, forKey: .reason), note: note)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .norm(let mean, let sd):
            try c.encode(mean, forKey: .mean)
            try c.encode(sd, forKey: .sd)
        case .unavailable(let reason, let note):
            try c.encode(reason, forKey: .reason)
            try c.encode(note, forKey: .note)
        }
    }
}
