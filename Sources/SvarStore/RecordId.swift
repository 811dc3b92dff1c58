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
        // The time goes over the first 48 random bits and the version nibble becomes 7: 74 random bits remain.
        var uuid = randomVersion4()
        let milliseconds = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        withUnsafeMutableBytes(of: &uuid) { bytes in
            for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: milliseconds >> (40 - 8 * i)) }
            bytes[6] = 0x70 | (bytes[6] & 0x0F)
        }
        return UUID(uuid: uuid).uuidString.lowercased()
    }

    /// A random id (UUID version 4) that says nothing about when it was made: for ids people see or carry (a
    /// patient's short reference, an invitation's id inside its link).
    public static func random() -> String { UUID(uuid: randomVersion4()).uuidString.lowercased() }

    /// 122 random bits with the version-4 and RFC variant bits set. Drawn from the system's generator
    /// (`getrandom`) rather than through Foundation's `UUID()`, which opens and reads `/dev/urandom` for every id:
    /// three system calls per id, four ids per submission.
    static func randomVersion4() -> uuid_t {
        var generator = SystemRandomNumberGenerator()
        var uuid = unsafeBitCast((generator.next() as UInt64, generator.next() as UInt64), to: uuid_t.self)
        withUnsafeMutableBytes(of: &uuid) { bytes in
            bytes[6] = 0x40 | (bytes[6] & 0x0F)
            bytes[8] = 0x80 | (bytes[8] & 0x3F)
        }
        return uuid
    }
}
