import Foundation
import SvarInstruments
import Testing

/// The quick reader of draft answers gives what the general parser gives, or leaves the text to it.
@Suite struct FlatIntegerObjectTests {
    /// What the general parser makes of a flat object: its integer members (first of a duplicate key).
    static func general(_ text: String) -> [String: Int]? {
        guard case .object(let members)? = try? JSONParser.parse(text) else { return nil }
        return Dictionary(members.compactMap { key, value in value.integerValue.map { (key, $0) } }, uniquingKeysWith: { a, _ in a })
    }

    @Test func agreesWithTheGeneralParserOnDraftsAsSvarWritesThem() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let count = Int.random(in: 0...40, using: &generator)
            var members: [String: Int] = [:]
            for _ in 0..<count { members["q\(Int.random(in: 0...99, using: &generator))"] = Int.random(in: -5...100, using: &generator) }
            let text = JSONValue.object(members.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) }).serialized
            #expect(FlatIntegerObject.parse(text) == members, "\(text)")
            #expect(Self.general(text) == members, "\(text)")
        }
        #expect(FlatIntegerObject.parse(#" { "MO" : 1 , "VAS":75 } "#) == ["MO": 1, "VAS": 75])
        #expect(FlatIntegerObject.parse("{}") == [:])
    }

    @Test func leavesEverythingElseToTheGeneralParser() {
        for text in [
            #"{"a":01}"#, #"{"a":1.0}"#, #"{"a":1e0}"#, #"{"a":"1"}"#, #"{"a":1,"a":2}"#, #"{"\u0061":1}"#, #"{"a":-}"#,
            #"{"a":99999999999999999999}"#, #"{"a":1"#, #"{"a":1,}"#, #"{"a":1} x"#, #"[1]"#, "", #"{"a":null}"#, #"{"a" 1}"#,
        ] {
            #expect(FlatIntegerObject.parse(text) == nil, "\(text)")
        }
        // Where the general parser reads them, it is the one that decides.
        #expect(Self.general(#"{"a":1.0,"b":2}"#)?["b"] == 2)
    }
}
