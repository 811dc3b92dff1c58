/// One scored value as it is recorded and forwarded: exact decimal text (never a binary float), how it was
/// made (`algorithm`, `valueSet`) and how complete the scale was, so a registry can recompute it.
public struct StoredScore: Sendable, Equatable {
    public var key: String
    /// Exact decimal text, or nil.
    public var number: String?
    public var flag: Bool?
    public var itemsAnswered: Int?
    public var itemsInScale: Int?
    public var algorithm: String
    public var valueSet: String?
    public init(key: String, number: String?, flag: Bool?, itemsAnswered: Int?, itemsInScale: Int?, algorithm: String, valueSet: String?) {
        self.key = key
        self.number = number
        self.flag = flag
        self.itemsAnswered = itemsAnswered
        self.itemsInScale = itemsInScale
        self.algorithm = algorithm
        self.valueSet = valueSet
    }
}
