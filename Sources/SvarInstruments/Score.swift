import Foundation

/// The scored result of one response: what a clinician sees, what is stored and what is forwarded.
///
/// `algorithm` (id@version) and `valueSet` are recorded with every score so a registry can tell how a
/// number was made and recompute it later.
public struct Score: Sendable, Equatable {
    public let instrument: String
    public let algorithm: String
    public let valueSet: String?
    public let values: [Value]

    public struct Value: Sendable, Equatable {
        public let key: String
        public let number: Decimal?
        public let flag: Bool?
        /// For scales: how many of the scale's items were answered, and how many it has.
        public let itemsAnswered: Int?
        public let itemsInScale: Int?

        public init(key: String, number: Decimal? = nil, flag: Bool? = nil, itemsAnswered: Int? = nil, itemsInScale: Int? = nil) {
            self.key = key
            self.number = number
            self.flag = flag
            self.itemsAnswered = itemsAnswered
            self.itemsInScale = itemsInScale
        }

        public var isMissing: Bool { number == nil && flag == nil }
    }

    public init(instrument: String, algorithm: String, valueSet: String?, values: [Value]) {
        self.instrument = instrument
        self.algorithm = algorithm
        self.valueSet = valueSet
        self.values = values
    }

    public func value(_ key: String) -> Value? { values.first { $0.key == key } }
}
