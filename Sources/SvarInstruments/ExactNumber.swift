import Foundation

/// Exact decimal helpers on top of Foundation's `Decimal`.
///
/// Value-set coefficients are published as decimal numbers; summing them in `Decimal` reproduces the
/// published tables digit for digit, which binary `Double` cannot promise.
public enum ExactNumber {
    /// Parses a decimal literal such as `-0.03116` or `1e-3`; nil for anything else.
    public static func decimal(_ text: String) -> Decimal? {
        guard isNumberLiteral(text) else { return nil }
        return Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
    }

    /// The integer a JSON number literal denotes, if its exact value is a whole number that fits in `Int`.
    public static func integer(fromJSONNumber text: String) -> Int? {
        if let plain = Int(text) { return plain }
        guard let value = decimal(text) else { return nil }
        var rounded = Decimal()
        var copy = value
        NSDecimalRound(&rounded, &copy, 0, .plain)
        guard rounded == value, abs(value) < Decimal(1_000_000_000) else { return nil }
        return NSDecimalNumber(decimal: value).intValue
    }

    /// Whether a JSON number denotes a whole number, however large.
    public static func isIntegral(_ value: JSONValue) -> Bool {
        guard case .number(let text) = value, let decimal = decimal(text) else { return false }
        return rounded(decimal, places: 0) == decimal
    }

    /// Rounds half away from zero to `places` decimals (the convention of published value-set tables).
    public static func rounded(_ value: Decimal, places: Int) -> Decimal {
        var result = Decimal()
        var copy = value
        NSDecimalRound(&result, &copy, places, .plain)
        return result
    }

    /// Plain decimal text (no exponent), e.g. `-0.1090707`, `1`, `0.329`.
    public static func text(_ value: Decimal) -> String {
        texts.value(value) { value.description } ?? value.description
    }

    /// `Decimal.description` took 3.8 µs a number, 5 % of a submission's CPU. Scoring produces few distinct values
    /// (a scale's mean per sum and count of items, an index per profile and value set), so each text is made once.
    /// Equal values have the same text (`1.50` and `1.5` both read `1.5`), so the value is the key.
    static let texts = Memo<Decimal, String>(limit: 100_000)

    /// Fixed-decimal text, e.g. `0.900` for places 3.
    public static func text(_ value: Decimal, places: Int) -> String {
        let r = rounded(value, places: places)
        var s = r.description
        guard places > 0 else { return s }
        if !s.contains(".") { s += "." }
        let decimals = s.split(separator: ".", omittingEmptySubsequences: false).last.map(\.count) ?? 0
        if decimals < places { s += String(repeating: "0", count: places - decimals) }
        return s
    }

    static func isNumberLiteral(_ text: String) -> Bool {
        var bytes = Substring(text).utf8[...]
        if bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        let digits = bytes.prefix { $0 >= 48 && $0 <= 57 }
        guard !digits.isEmpty else { return false }
        bytes = bytes.dropFirst(digits.count)
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            let fraction = bytes.prefix { $0 >= 48 && $0 <= 57 }
            guard !fraction.isEmpty else { return false }
            bytes = bytes.dropFirst(fraction.count)
        }
        if bytes.first == UInt8(ascii: "e") || bytes.first == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if bytes.first == UInt8(ascii: "+") || bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
            let exponent = bytes.prefix { $0 >= 48 && $0 <= 57 }
            guard !exponent.isEmpty, exponent.count < 4 else { return false }
            bytes = bytes.dropFirst(exponent.count)
        }
        return bytes.isEmpty
    }
}
