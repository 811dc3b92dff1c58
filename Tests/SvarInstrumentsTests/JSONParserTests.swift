import SvarInstruments
import Testing

@Suite struct JSONParserTests {
    @Test func keepsNumbersAsExactText() throws {
        let value = try JSONParser.parse(#"{"a": -0.1090707, "b": 2.0, "c": 1e2, "d": [true, null, "x\u00e6\n"]}"#)
        #expect(value["a"] == .number("-0.1090707"))
        #expect(value["b"]?.integerValue == 2)
        #expect(value["c"]?.integerValue == 100)
        #expect(value["d"] == .array([.bool(true), .null, .string("xæ\n")]))
    }

    @Test func integerValueRefusesFractionsTextAndBooleans() throws {
        #expect(JSONValue.number("2.5").integerValue == nil)
        #expect(JSONValue.string("2").integerValue == nil)
        #expect(JSONValue.bool(true).integerValue == nil)
        #expect(JSONValue.number("-3").integerValue == -3)
    }

    @Test(arguments: ["", "{", "{\"a\":}", "[1,]", "01", "1.", "{\"a\":1,\"a\":2}", "\"\\x\"", "nul", "{} x", "\"\u{01}\""])
    func refusesInvalidJSON(_ text: String) {
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(text) }
    }

    @Test func refusesDeepNesting() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(deep) }
    }

    @Test func serializationRoundTrips() throws {
        let text = #"{"k":"quote \" and \\ and \u0001","n":[1,-0.5,null,false]}"#
        let value = try JSONParser.parse(text)
        #expect(value.serialized == text)
        #expect(try JSONParser.parse(value.serialized) == value)
    }

    @Test func surrogatePairsDecode() throws {
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == .string("😀"))
    }
}
