import Foundation
import SvarInstruments
import Testing

struct InvalidAnswerVector: Decodable, CustomTestStringConvertible {
    let instrument: String
    let answers: JSONValueBox
    let field: String
    var testDescription: String { "\(instrument) \(answers.value.serialized)" }
}

/// Decodes any JSON through Foundation and re-parses it with Svar's parser, so the vector file stays plain JSON.
struct JSONValueBox: Decodable {
    let value: JSONValue
    init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(AnyJSON.self)
        value = try JSONParser.parse(
            String(decoding: try JSONSerialization.data(withJSONObject: raw.object, options: [.fragmentsAllowed]), as: UTF8.self))
    }
}

struct AnyJSON: Decodable {
    let object: Any
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            object = NSNull()
        } else if let b = try? c.decode(Bool.self) {
            object = b
        } else if let i = try? c.decode(Int.self) {
            object = i
        } else if let d = try? c.decode(Double.self) {
            object = d
        } else if let s = try? c.decode(String.self) {
            object = s
        } else if let a = try? c.decode([AnyJSON].self) {
            object = a.map(\.object)
        } else {
            object = try c.decode([String: AnyJSON].self).mapValues(\.object)
        }
    }
}

let invalidVectors: [InvalidAnswerVector] = {
    do {
        let data = try Data(contentsOf: vectorsDirectory.appendingPathComponent("eq5d-invalid.json"))
        return try JSONDecoder().decode([InvalidAnswerVector].self, from: data)
    } catch {
        fatalError("Vectors/eq5d-invalid.json: \(error)")
    }
}()

@Suite struct InvalidAnswerVectorTests {
    /// Either the answer itself is refused, or (null = not answered) the required-item check names the field.
    @Test(arguments: invalidVectors)
    func isRefusedNamingTheField(_ vector: InvalidAnswerVector) throws {
        let q = try instrument(vector.instrument)
        do {
            let answers = try q.checkAnswers(vector.answers.value)
            #expect(q.missingRequired(answers).contains(vector.field), "accepted, and \(vector.field) is not reported missing")
        } catch {
            #expect(error.field == vector.field)
        }
    }
}
