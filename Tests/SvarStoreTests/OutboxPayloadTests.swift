import SvarStore
import Testing

/// Outbox payloads are a Codable type: the same value always gives the same text, absent members are left out,
/// and rows written before the type (hand-written JSON with the same members) still read.
@Suite struct OutboxPayloadTests {
    @Test func payloadsEncodeWithSortedKeysAndNothingForAbsentMembers() throws {
        #expect(try OutboxPayload().json() == "{}")
        #expect(try OutboxPayload(invitation: "i-1", reminder: 2).json() == #"{"invitation":"i-1","reminder":2}"#)
        #expect(try OutboxPayload(invitation: "i-1", code: "012345").json() == #"{"code":"012345","invitation":"i-1"}"#)
    }

    @Test func rowsWrittenBeforeStillRead() throws {
        #expect(try OutboxPayload(json: #"{"invitation":"i-1","reminder":3}"#) == OutboxPayload(invitation: "i-1", reminder: 3))
        #expect(try OutboxPayload(json: #"{"response":"r-9"}"#).response == "r-9")
        #expect(try OutboxPayload(json: "{}") == OutboxPayload())
    }
}
