import Crypto
import Foundation
import SvarDomain
import SvarInstruments

/// The FHIR R4 mapping of a forwarded response (docs/architecture.md): a `transaction` Bundle with the Patient (only an
/// identifier), the `QuestionnaireResponse` and one `Observation` per score. Every entry is a conditional
/// create (`ifNoneExist` on its identifier), so a retried Bundle never duplicates anything at the registry;
/// the `urn:uuid` full URLs are derived from the response id, so every retry sends the same Bundle.
public enum RegistryBundle {
    public static let responseSystem = "urn:svar:response"
    public static let observationSystem = "urn:svar:observation"
    public static let scoreCodeSystem = "urn:svar:score"
    public static let algorithmSystem = "urn:svar:algorithm"
    public static let valueSetSystem = "urn:svar:value-set"
    public static let unitSystem = "urn:svar:resh"
    public static let milestoneExtension = "urn:svar:extension:milestone"
    /// Who answered: a `Respondent` code (patient, patientWithHelp, proxy, notStated).
    public static let respondentExtension = "urn:svar:extension:respondent"
    public static let unitExtension = "urn:svar:extension:unit"
    static let categorySystem = "http://terminology.hl7.org/CodeSystem/observation-category"
    static let absentSystem = "http://terminology.hl7.org/CodeSystem/data-absent-reason"

    /// The Bundle for `response`, naming the patient as `subject`. `instrument` gives the item structure and
    /// the canonical URL; answers it does not know are refused rather than dropped.
    public static func transaction(_ response: ForwardedResponse, subject: RegistrySubject, instrument: Instrument) throws -> JSONValue {
        let answers = try JSONParser.parse(response.answersJSON)
        let checked = instrument.applicable(try instrument.checkAnswers(answers))
        let patientURL = uuidURL(response.responseId, "patient")
        let responseURL = uuidURL(response.responseId, "response")
        let authored = OsloTime.iso8601(response.submittedAt)
        var entries: [JSONValue] = [
            entry(
                url: patientURL, type: "Patient", identifier: subject.system, value: subject.value,
                resource: .object([
                    ("resourceType", .string("Patient")),
                    ("identifier", .array([identifier(subject.system, subject.value)])),
                ]))
        ]
        var questionnaireResponse: [(String, JSONValue)] = [
            ("resourceType", .string("QuestionnaireResponse")),
            ("language", .string(response.language)),
            (
                "extension",
                .array([
                    .object([("url", .string(milestoneExtension)), ("valueCode", .string(response.milestone))]),
                    .object([("url", .string(unitExtension)), ("valueIdentifier", identifier(unitSystem, response.unit))]),
                    .object([("url", .string(respondentExtension)), ("valueCode", .string(response.respondent))]),
                ])
            ),
            ("identifier", identifier(responseSystem, response.responseId)),
            ("questionnaire", .string("\(instrument.questionnaire.url)|\(response.instrumentVersion)")),
            ("status", .string("completed")),
            ("subject", reference(patientURL)),
            ("authored", .string(authored)),
        ]
        // Who answered: the patient (alone or with help) is the source; someone answering for them is a related
        // person Svar knows nothing more about. The extension keeps the exact code either way.
        switch Respondent(rawValue: response.respondent) {
        case .patient?, .patientWithHelp?:
            questionnaireResponse.append(("source", reference(patientURL)))
        case .proxy?:
            questionnaireResponse.append(
                ("source", .object([("type", .string("RelatedPerson")), ("display", .string("Someone answering for the patient"))])))
        case .notStated?, nil:
            break
        }

        let items = answerItems(instrument.questionnaire.item, checked)
        if !items.isEmpty { questionnaireResponse.append(("item", .array(items))) }
        entries.append(
            entry(
                url: responseURL, type: "QuestionnaireResponse", identifier: responseSystem, value: response.responseId,
                resource: .object(questionnaireResponse)))
        for score in response.scores {
            let id = "\(response.responseId)/\(score.key)"
            entries.append(
                entry(
                    url: uuidURL(response.responseId, "score:\(score.key)"), type: "Observation", identifier: observationSystem,
                    value: id,
                    resource: observation(
                        score, id: id, instrument: response.instrument, patientURL: patientURL,
                        responseURL: responseURL, effective: authored)))
        }
        return .object([
            ("resourceType", .string("Bundle")),
            ("type", .string("transaction")),
            ("entry", .array(entries)),
        ])
    }

    static func observation(
        _ score: StoredScore, id: String, instrument: String, patientURL: String, responseURL: String,
        effective: String
    ) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("resourceType", .string("Observation")),
            ("identifier", .array([identifier(observationSystem, id)])),
            ("status", .string("final")),
            (
                "category",
                .array([
                    .object([
                        (
                            "coding",
                            .array([
                                .object([
                                    ("system", .string(categorySystem)), ("code", .string("survey")),
                                ])
                            ])
                        )
                    ])
                ])
            ),
            (
                "code",
                .object([
                    ("coding", .array([.object([("system", .string(scoreCodeSystem)), ("code", .string("\(instrument).\(score.key)"))])])),
                    ("text", .string("\(instrument) \(score.key)")),
                ])
            ),
            ("subject", reference(patientURL)),
            ("effectiveDateTime", .string(effective)),
        ]
        if let number = score.number {
            members.append(("valueQuantity", .object([("value", .number(number))])))
        } else if let flag = score.flag {
            members.append(("valueBoolean", .bool(flag)))
        } else {
            members.append(
                (
                    "dataAbsentReason",
                    .object([
                        ("coding", .array([.object([("system", .string(absentSystem)), ("code", .string("not-applicable"))])])),
                        ("text", .string("not scored: too few items answered")),
                    ])
                ))
        }
        var method: [JSONValue] = [.object([("system", .string(algorithmSystem)), ("code", .string(score.algorithm))])]
        var methodText = "algorithm \(score.algorithm)"
        if let valueSet = score.valueSet {
            method.append(.object([("system", .string(valueSetSystem)), ("code", .string(valueSet))]))
            methodText += ", value set \(valueSet)"
        }
        members.append(("method", .object([("coding", .array(method)), ("text", .string(methodText))])))
        members.append(("derivedFrom", .array([reference(responseURL)])))
        return .object(members)
    }

    /// Answered items in the questionnaire's own nesting; groups without answers are left out (FHIR requires a
    /// group to have items).
    static func answerItems(_ items: [Questionnaire.Item], _ answers: Answers) -> [JSONValue] {
        items.compactMap { item -> JSONValue? in
            if item.type == .group {
                let children = answerItems(item.item ?? [], answers)
                guard !children.isEmpty else { return nil }
                return .object([("linkId", .string(item.linkId)), ("item", .array(children))])
            }
            guard item.type.takesAnswer, let value = answers[item.linkId] else { return nil }
            let answer: JSONValue
            if item.type == .choice, let option = item.answerOption?.first(where: { $0.valueCoding.code == String(value) }) {
                var coding: [(String, JSONValue)] = []
                if let system = option.valueCoding.system { coding.append(("system", .string(system))) }
                coding.append(("code", .string(option.valueCoding.code)))
                if let display = option.valueCoding.display { coding.append(("display", .string(display))) }
                answer = .object([("valueCoding", .object(coding))])
            } else {
                answer = .object([("valueInteger", .int(value))])
            }
            return .object([("linkId", .string(item.linkId)), ("answer", .array([answer]))])
        }
    }

    static func entry(url: String, type: String, identifier system: String, value: String, resource: JSONValue) -> JSONValue {
        .object([
            ("fullUrl", .string(url)),
            ("resource", resource),
            (
                "request",
                .object([
                    ("method", .string("POST")),
                    ("url", .string(type)),
                    ("ifNoneExist", .string("identifier=\(system)|\(value)")),
                ])
            ),
        ])
    }

    static func identifier(_ system: String, _ value: String) -> JSONValue {
        .object([("system", .string(system)), ("value", .string(value))])
    }

    static func reference(_ url: String) -> JSONValue { .object([("reference", .string(url))]) }

    /// A name-based UUID (version 8 layout over SHA-256) so the same response always gives the same URLs.
    static func uuidURL(_ responseId: String, _ role: String) -> String {
        var bytes = Array(SHA256.hash(data: Array("\(responseId)#\(role)".utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let parts = [
            hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20),
        ]
        return "urn:uuid:" + parts.joined(separator: "-")
    }
}
