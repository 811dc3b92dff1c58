import SvarDomain
import SvarInstruments

extension Score {
    /// The values as recorded with a submission and forwarded: exact decimal text; the value set goes with
    /// the index it produced.
    public var stored: [StoredScore] {
        values.map {
            StoredScore(
                key: $0.key, number: $0.number.map { ExactNumber.text($0) }, flag: $0.flag, itemsAnswered: $0.itemsAnswered,
                itemsInScale: $0.itemsInScale, algorithm: algorithm, valueSet: $0.key == "index" ? valueSet : nil)
        }
    }
}
