/// Draft answers as Svar writes them, `{"id":integer,…}`, read without building a `JSONValue` tree. Every patient
/// page reads the drafts, and the general parser was a twentieth of a page's CPU. Nil for anything else
/// (escapes, fractions, exponents, leading zeros, duplicate keys, numbers out of range): the caller then takes
/// the general parser, so the answers read are the same either way.
public enum FlatIntegerObject {
    public static func parse(_ text: String) -> [String: Int]? {
        var bytes = text.utf8.makeIterator()
        var out: [String: Int] = [:]
        var next = skipSpace(&bytes)
        guard next == UInt8(ascii: "{") else { return nil }
        next = skipSpace(&bytes)
        if next == UInt8(ascii: "}") { return skipSpace(&bytes) == nil ? out : nil }
        while true {
            guard next == UInt8(ascii: "\""), let key = readKey(&bytes), out[key] == nil,
                skipSpace(&bytes) == UInt8(ascii: ":")
            else { return nil }
            guard let (value, after) = readInteger(&bytes, first: skipSpace(&bytes)) else { return nil }
            out[key] = value
            switch after.flatMap({ isSpace($0) ? nil : $0 }) ?? skipSpace(&bytes) {
            case UInt8(ascii: ","): next = skipSpace(&bytes)
            case UInt8(ascii: "}"): return skipSpace(&bytes) == nil ? out : nil
            default: return nil
            }
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    private static func skipSpace(_ bytes: inout String.UTF8View.Iterator) -> UInt8? {
        while let byte = bytes.next() {
            if !isSpace(byte) { return byte }
        }
        return nil
    }

    /// The key after its opening quote, up to the closing one; nil on an escape or a control character.
    private static func readKey(_ bytes: inout String.UTF8View.Iterator) -> String? {
        var key: [UInt8] = []
        while let byte = bytes.next() {
            if byte == UInt8(ascii: "\"") { return String(decoding: key, as: UTF8.self) }
            guard byte != UInt8(ascii: "\\"), byte >= 0x20 else { return nil }
            key.append(byte)
        }
        return nil
    }

    /// An integer without fraction, exponent or leading zero, and the byte after it (nil at the end of the text).
    private static func readInteger(_ bytes: inout String.UTF8View.Iterator, first: UInt8?) -> (Int, UInt8?)? {
        guard var byte = first else { return nil }
        let negative = byte == UInt8(ascii: "-")
        if negative {
            guard let digit = bytes.next() else { return nil }
            byte = digit
        }
        var value = 0
        var digits = 0
        var current: UInt8? = byte
        while let digit = current, digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") {
            guard digits == 0 || value != 0 else { return nil }  // a leading zero
            let (times, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int(digit - UInt8(ascii: "0")))
            guard !overflow, !overflow2 else { return nil }
            value = sum
            digits += 1
            current = bytes.next()
        }
        guard digits > 0, current != UInt8(ascii: "."), current != UInt8(ascii: "e"), current != UInt8(ascii: "E") else { return nil }
        return (negative ? -value : value, current)
    }
}
