/// A Norwegian national identity number (fødselsnummer), D-number, H-number or FH-number, checked.
///
/// Svar never derives sex or century from the number (meaningless for numbers issued from 2032); it only
/// decides whether the number is well-formed and which kind it is. Synthetic test numbers (month + 80) are
/// accepted only outside production; NAV's synthetic month + 40 cannot be told from an H-number and is read as
/// one (docs/domain.md).
public struct IdentityNumber: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        case fnr, dNumber, hNumber, fhNumber
    }

    /// Which control-digit rule the number passes: the original (1964) or the relaxed rule for numbers
    /// issued from 1 January 2032, where K1 may leave a remainder of 0–3.
    public enum ControlRule: String, Sendable, Codable {
        case rules1964, rules2032
    }

    public let digits: String
    public let kind: Kind
    public let isSynthetic: Bool
    public let controlRule: ControlRule

    /// The FHIR identifier system (OID) for this kind of number.
    public var system: String {
        switch kind {
        case .fnr: return "urn:oid:2.16.578.1.12.4.1.4.1"
        case .dNumber: return "urn:oid:2.16.578.1.12.4.1.4.2"
        case .hNumber: return "urn:oid:2.16.578.1.12.4.1.4.3"
        case .fhNumber: return "urn:oid:2.16.578.1.12.4.1.4.4"
        }
    }

    /// Never prints the number: descriptions end up in logs.
    public var description: String { "IdentityNumber(\(kind.rawValue), redacted)" }

    /// Checks `text` (11 digits; spaces are ignored). `allowSynthetic` is true only in demo and test mode.
    public init(_ text: String, allowSynthetic: Bool) throws(IdentityNumberError) {
        let compact = text.filter { $0 != " " }
        guard compact.count == 11 else { throw .wrongLength(compact.count) }
        let d = compact.compactMap { $0.wholeNumberValue }
        guard d.count == 11, compact.allSatisfy({ $0.isASCII && $0.isNumber }) else { throw .notDigits }

        let s1 = 3 * d[0] + 7 * d[1] + 6 * d[2] + 1 * d[3] + 8 * d[4] + 9 * d[5] + 4 * d[6] + 5 * d[7] + 2 * d[8]
        let r1 = (s1 + d[9]) % 11
        let rule: ControlRule
        switch r1 {
        case 0: rule = .rules1964
        case 1, 2, 3: rule = .rules2032
        default: throw .firstControlDigit
        }
        let s2 = 5 * d[0] + 4 * d[1] + 3 * d[2] + 2 * d[3] + 7 * d[4] + 6 * d[5] + 5 * d[6] + 4 * d[7] + 3 * d[8] + 2 * d[9]
        guard (s2 + d[10]) % 11 == 0 else { throw .secondControlDigit }

        var kind = Kind.fnr
        var synthetic = false
        if d[0] >= 8 {
            kind = .fhNumber
        } else {
            var day = d[0] * 10 + d[1]
            var month = d[2] * 10 + d[3]
            if d[0] >= 4 {
                kind = .dNumber
                day -= 40
            }
            switch d[2] {
            case 8, 9:
                synthetic = true
                month -= 80
            case 4, 5:
                // H-number (month + 40); NAV's synthetic numbers use the same offset.
                if kind == .dNumber { throw .invalidDate }
                kind = .hNumber
                month -= 40
            default: break
            }
            let year = d[4] * 10 + d[5]
            guard IdentityNumber.isCalendarDate(day: day, month: month, twoDigitYear: year) else { throw .invalidDate }
        }
        if synthetic && !allowSynthetic { throw .syntheticInProduction }
        digits = compact
        self.kind = kind
        isSynthetic = synthetic
        controlRule = rule
    }

    /// A date check that does not know the century: 29 February is accepted when the two-digit year is
    /// divisible by 4 (as Skatteetaten's reference validator does).
    static func isCalendarDate(day: Int, month: Int, twoDigitYear: Int) -> Bool {
        guard (1...12).contains(month), day >= 1 else { return false }
        let days = [31, twoDigitYear % 4 == 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= days[month - 1]
    }
}

/// Why an identity number was refused; the message names the check that failed.
public enum IdentityNumberError: Error, Sendable, Equatable, CustomStringConvertible {
    case wrongLength(Int)
    case notDigits
    case invalidDate
    case firstControlDigit
    case secondControlDigit
    case syntheticInProduction

    public var description: String {
        switch self {
        case .wrongLength(let n): return "must be 11 digits (got \(n))"
        case .notDigits: return "must contain digits only"
        case .invalidDate: return "the first six digits are not a valid date (day, month) for a fødselsnummer, D- or H-number"
        case .firstControlDigit: return "the first control digit (K1, digit 10) is wrong"
        case .secondControlDigit: return "the second control digit (K2, digit 11) is wrong"
        case .syntheticInProduction: return "synthetic test numbers are accepted only in demo and test mode"
        }
    }
}

extension IdentityNumber {
    /// A synthetic test number (Skatteetaten's month + 80 convention) for a birth date and individual number,
    /// or nil when that individual number gives no valid control digits. For demo data and tests only.
    public static func synthetic(birthDate: LocalDate, individual: Int) -> String? {
        let yy = birthDate.year % 100
        let body = [
            birthDate.day / 10, birthDate.day % 10, (birthDate.month + 80) / 10, (birthDate.month + 80) % 10,
            yy / 10, yy % 10, individual / 100 % 10, individual / 10 % 10, individual % 10,
        ]
        let k1 = (11 - zip(body, [3, 7, 6, 1, 8, 9, 4, 5, 2]).map(*).reduce(0, +) % 11) % 11
        guard k1 < 10 else { return nil }
        let k2 = (11 - zip(body + [k1], [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]).map(*).reduce(0, +) % 11) % 11
        guard k2 < 10 else { return nil }
        return (body + [k1, k2]).map(String.init).joined()
    }
}
