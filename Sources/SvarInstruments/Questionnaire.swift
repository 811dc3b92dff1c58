import Foundation

/// The subset of a FHIR R4 `Questionnaire` that Svar reads: enough to render, validate and score.
///
/// The files under `instruments/` are complete FHIR resources (checked by an independent validator in the
/// test run); Svar decodes only what it needs and ignores the rest.
public struct Questionnaire: Codable, Sendable, Equatable {
    public var resourceType: String
    public var id: String
    public var url: String
    public var version: String
    public var name: String?
    public var title: String?
    public var status: String
    public var language: String?
    public var copyright: String?
    public var publisher: String?
    public var `extension`: [Extension]?
    public var item: [Item]

    public static let scoringExtensionURL = "urn:svar:extension:scoring"

    /// The scoring algorithm id from Svar's scoring extension (`rand36`, `eq5d`, `kvarus-followup`).
    public var scoringAlgorithm: String? {
        `extension`?.first { $0.url == Questionnaire.scoringExtensionURL }?.valueCode
    }

    /// Every item, depth first, in questionnaire order (groups included).
    public var allItems: [Item] {
        var out: [Item] = []
        func walk(_ items: [Item]) {
            for item in items {
                out.append(item)
                walk(item.item ?? [])
            }
        }
        walk(item)
        return out
    }

    /// The items that take an answer, in questionnaire order.
    public var questions: [Item] { allItems.filter { $0.type.takesAnswer } }

    public func item(linkId: String) -> Item? { allItems.first { $0.linkId == linkId } }

    public struct Extension: Codable, Sendable, Equatable {
        public var url: String
        public var valueCode: String?
        public var valueInteger: Int?
        public var valueString: String?
    }

    public struct Coding: Codable, Sendable, Equatable {
        public var system: String?
        public var code: String
        public var display: String?
    }

    public struct AnswerOption: Codable, Sendable, Equatable {
        public var valueCoding: Coding
    }

    public struct EnableWhen: Codable, Sendable, Equatable {
        public var question: String
        public var `operator`: String
        public var answerBoolean: Bool?
        public var answerInteger: Int?
        public var answerCoding: Coding?
    }

    public enum ItemType: String, Codable, Sendable {
        case group, display, choice, integer, boolean, string, text, decimal, date

        public var takesAnswer: Bool { self != .group && self != .display }
    }

    public struct Item: Codable, Sendable, Equatable {
        public var linkId: String
        public var type: ItemType
        public var text: String?
        public var required: Bool?
        public var repeats: Bool?
        public var answerOption: [AnswerOption]?
        public var enableWhen: [EnableWhen]?
        public var enableBehavior: String?
        public var `extension`: [Extension]?
        public var item: [Item]?

        static let minValueURL = "http://hl7.org/fhir/StructureDefinition/minValue"
        static let maxValueURL = "http://hl7.org/fhir/StructureDefinition/maxValue"

        public var isRequired: Bool { required ?? false }
        public var optionCodes: [String] { answerOption?.map(\.valueCoding.code) ?? [] }
        public var minValue: Int? { `extension`?.first { $0.url == Item.minValueURL }?.valueInteger }
        public var maxValue: Int? { `extension`?.first { $0.url == Item.maxValueURL }?.valueInteger }
    }
}
