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
        // A version-4 UUID has the RFC variant bits and 122 random ones: the time goes over its first 48 and the
        // version nibble becomes 7, which leaves the 74 random bits of version 7.
        var uuid = UUID().uuid
        let milliseconds = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        withUnsafeMutableBytes(of: &uuid) { bytes in
            for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: milliseconds >> (40 - 8 * i)) }
            bytes[6] = 0x70 | (bytes[6] & 0x0F)
        }
        return UUID(uuid: uuid).uuidString.lowercased()
    }

    /// A random id (UUID version 4) that says nothing about when it was made: for ids people see or carry (a
    /// patient's short reference, an invitation's id inside its link).
    public static func random() -> String { UUID().uuidString.lowercased() }
}
