import Foundation
import SvarDomain
import SvarInstruments
import SvarRegistry
import Testing

@Suite struct RegistryBundleTests {
    func response(_ instrument: String, answers: [String: Int]? = nil, respondent: String = "patient") throws -> ForwardedResponse {
        let submission = try submitted(instrument, answers)
        return ForwardedResponse(
            responseId: "7d2b1a4e-0000-4000-8000-000000000001", patientId: "p", invitationId: "i", courseId: "c",
            unit: "4208", milestone: "baseline", instrument: instrument, instrumentVersion: submission.instrumentVersion,
            language: "nn", respondent: respondent, submittedAt: t0, answersJSON: submission.answersJSON,
            scores: submission.scores)
    }

    func entries(_ bundle: JSONValue) -> [JSONValue] {
        if case .array(let entries)? = bundle["entry"] { return entries }
        return []
    }

    /// Issue 15 item 7: who answered is in the QuestionnaireResponse: the patient (alone or with help) as its
    /// source, someone answering for them as a related person, and the exact code in an extension.
    @Test(
        arguments: [
            ("patient", "reference"), ("patientWithHelp", "reference"), ("proxy", "RelatedPerson"), ("notStated", nil),
        ] as [(String, String?)])
    func theResponseSaysWhoAnswered(_ respondent: String, source: String?) throws {
        let bundle = try RegistryBundle.transaction(
            try response("eq5d-5l", respondent: respondent), subject: .pseudonym("abc"),
            instrument: try #require(catalogue.instrument("eq5d-5l")))
        let all = entries(bundle)
        let qr = try #require(all[1]["resource"])
        switch source {
        case "reference"?: #expect(qr["source"]?["reference"] != nil && qr["source"]?["reference"] == all[0]["fullUrl"])
        case let type?: #expect(qr["source"]?["type"]?.stringValue == type && qr["source"]?["reference"] == nil)
        case nil: #expect(qr["source"] == nil, "no source when nobody said who answered")
        }
        #expect(
            qr["extension"]?.serialized.contains(
                #"{"url":"urn:svar:extension:respondent","valueCode":"\#(respondent)"}"#) == true)
    }

    @Test(arguments: ["rand36", "eq5d-5l", "eq5d-3l", "kvarus-followup"])
    func aTransactionWithThePatientTheResponseAndOneObservationPerScore(_ instrument: String) throws {
        let r = try response(instrument)
        let bundle = try RegistryBundle.transaction(
            r, subject: .pseudonym("abc"), instrument: try #require(catalogue.instrument(instrument)))
        #expect(bundle["type"]?.stringValue == "transaction")
        let all = entries(bundle)
        #expect(all.count == 2 + r.scores.count)
        #expect(
            all.map { $0["resource"]?["resourceType"]?.stringValue ?? "" }
                == ["Patient", "QuestionnaireResponse"] + Array(repeating: "Observation", count: r.scores.count))
        for entry in all {
            #expect(entry["request"]?["method"]?.stringValue == "POST")
            #expect(entry["request"]?["ifNoneExist"]?.stringValue?.hasPrefix("identifier=urn:svar:") == true, "every create is conditional")
            #expect(entry["fullUrl"]?.stringValue?.hasPrefix("urn:uuid:") == true)
        }
        let qr = try #require(all[1]["resource"])
        #expect(qr["identifier"]?["value"]?.stringValue == r.responseId)
        #expect(qr["questionnaire"]?.stringValue == "urn:svar:questionnaire:\(instrument)|\(r.instrumentVersion)")
        #expect(qr["authored"]?.stringValue == "2026-12-01T09:00:00+01:00")
        #expect(
            qr["subject"]?["reference"] != nil && qr["subject"]?["reference"] == all[0]["fullUrl"],
            "the response is about the Patient entry")
        // Every answer to a question that applies appears; an answer to one whose enableWhen is false does not.
        let instrumentDefinition = try #require(catalogue.instrument(instrument))
        let checked = try instrumentDefinition.checkAnswers(try JSONParser.parse(r.answersJSON))
        let applicable = instrumentDefinition.applicable(checked)
        let text = qr.serialized
        for linkId in checked.values.keys {
            let shown = text.contains("\"linkId\":\"\(linkId)\"")
            #expect(shown == (applicable[linkId] != nil), "item \(linkId): shown \(shown)")
        }
        if instrument == "kvarus-followup" {
            #expect(applicable["injecting"] == nil && checked["injecting"] != nil, "the fixture answers a question that does not apply")
        }
        for (entry, score) in zip(all.dropFirst(2), r.scores) {
            let o = try #require(entry["resource"])
            #expect(o["code"]?["coding"]?.serialized.contains("\"code\":\"\(instrument).\(score.key)\"") == true)
            #expect(o["method"]?.serialized.contains(score.algorithm) == true)
            if let number = score.number { #expect(o["valueQuantity"]?["value"] == .number(number), "the exact decimal text") }
            if let valueSet = score.valueSet { #expect(o["method"]?.serialized.contains("\"code\":\"\(valueSet)\"") == true) }
        }
    }

    @Test func theSameResponseAlwaysGivesTheSameBundle() throws {
        let r = try response("eq5d-5l")
        let instrument = try #require(catalogue.instrument("eq5d-5l"))
        let a = try RegistryBundle.transaction(r, subject: .pseudonym("abc"), instrument: instrument).serialized
        let b = try RegistryBundle.transaction(r, subject: .pseudonym("abc"), instrument: instrument).serialized
        #expect(a == b)
        var other = r
        other.responseId = "7d2b1a4e-0000-4000-8000-000000000002"
        #expect(try RegistryBundle.transaction(other, subject: .pseudonym("abc"), instrument: instrument).serialized != a)
    }

    @Test func aScaleThatCouldNotBeScoredSaysWhyInsteadOfAValue() throws {
        let r = try response("rand36", answers: ["1": 3])
        let bundle = try RegistryBundle.transaction(r, subject: .pseudonym("abc"), instrument: try #require(catalogue.instrument("rand36")))
        let absent = entries(bundle).filter { $0["resource"]?["dataAbsentReason"] != nil }
        #expect(absent.count == 8, "every scale but general health (item 1) lacks answers")
        #expect(absent.allSatisfy { $0["resource"]?["valueQuantity"] == nil })
    }

    @Test func answersTheInstrumentDoesNotKnowAreRefusedNotDropped() throws {
        var r = try response("eq5d-5l")
        r.answersJSON = #"{"MO":1,"XX":2}"#
        #expect(throws: AnswerError.self) {
            try RegistryBundle.transaction(r, subject: .pseudonym("abc"), instrument: try #require(catalogue.instrument("eq5d-5l")))
        }
    }
}
