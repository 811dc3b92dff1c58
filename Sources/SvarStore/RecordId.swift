import Foundation

/// Ids of new rows: UUID version 7 (RFC 9562), 48 bits of Unix milliseconds followed by 74 random bits, in
/// lower-case text. Ids made one after another sort one after another, so a row's primary-key entry lands at
/// the right edge of its index instead of on a random page, and a commit of many new rows writes few pages.
/// The random part keeps them as hard to guess as a version-4 UUID's 122 bits are for any practical purpose.
/// Not for patients: the first characters of a patient id are shown as the patient's short reference, and ids made
/// in the same minute share them. Not for invitations either: their id travels inside the patient's link. Both
/// take `random()`.
public enum RecordId {
    public static func make(at now: Date = Date()) -> String {
        var random = SystemRandomNumberGenerator()
        let milliseconds = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        let high = random.next() as UInt64
        let low = random.next() as UInt64
        let bytes: [UInt8] =
            (0..<6).map { UInt8(truncatingIfNeeded: milliseconds >> (40 - 8 * $0)) }
            + [0x70 | UInt8(truncatingIfNeeded: high >> 60), UInt8(truncatingIfNeeded: high >> 52)]
            + [0x80 | UInt8(truncatingIfNeeded: low >> 58)] + (0..<7).map { UInt8(truncatingIfNeeded: low >> (48 - 8 * $0)) }
        let uuid = UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
        return uuid.uuidString.lowercased()
    }

    /// A random id (UUID version 4) that says nothing about when it was made: for ids people see or carry (a
    /// patient's short reference, an invitation's id inside its link).
    public static func random() -> String { UUID().uuidString.lowercased() }
}
