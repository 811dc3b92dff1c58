import Foundation
import SvarStore
import Testing

/// New rows' ids are version-7 UUIDs: valid UUIDs, ordered by the time they were made, and still random.
@Suite struct RecordIdTests {
    @Test func anIdIsAVersionSevenUUIDInLowerCase() throws {
        let id = RecordId.make(at: Date(timeIntervalSince1970: 1_796_000_000.5))
        let uuid = try #require(UUID(uuidString: id))
        #expect(id == uuid.uuidString.lowercased())
        let bytes = withUnsafeBytes(of: uuid.uuid) { Array($0) }
        #expect(bytes[6] >> 4 == 7)  // version
        #expect(bytes[8] >> 6 == 0b10)  // RFC 9562 variant
        let milliseconds = bytes[0..<6].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(milliseconds == 1_796_000_000_500)
    }

    @Test func idsMadeLaterSortAfterIdsMadeEarlier() {
        let start = Date(timeIntervalSince1970: 1_796_000_000)
        let ids = (0..<1_000).map { RecordId.make(at: start.addingTimeInterval(Double($0) * 0.002)) }
        #expect(ids == ids.sorted())
    }

    @Test func idsMadeInTheSameMillisecondDiffer() {
        let now = Date(timeIntervalSince1970: 1_796_000_000)
        let ids = (0..<10_000).map { _ in RecordId.make(at: now) }
        #expect(Set(ids).count == ids.count)
        #expect(Set(ids.map { $0.prefix(13) }).count == 1)  // the same time part: only the random part differs
    }

    /// Patients' and invitations' ids carry no time: a patient's short reference is the first eight characters,
    /// and an invitation's id travels inside its link.
    @Test func randomIdsAreVersionFourAndShareNoPrefix() throws {
        let ids = (0..<1_000).map { _ in RecordId.random() }
        for id in ids {
            let uuid = try #require(UUID(uuidString: id))
            #expect(withUnsafeBytes(of: uuid.uuid) { $0[6] >> 4 } == 4)
            #expect(withUnsafeBytes(of: uuid.uuid) { $0[8] >> 6 } == 0b10)  // RFC 9562 variant
        }
        #expect(Set(ids.map { $0.prefix(8) }).count > 990)
    }
}
