import Foundation

/// Patient-facing texts of one instrument in one language.
///
/// Texts are kept apart from the Questionnaire so a registry can install licensed wording (EQ-5D) or a
/// validated translation without touching codes or scoring.
public struct TextPack: Codable, Sendable, Equatable {
    public var instrument: String
    public var instrumentVersion: String?
    public var language: Language
    public var title: String
    public var introduction: String?
    public var source: String
    public var official: Bool
    public var items: [String: ItemText]

    public struct ItemText: Codable, Sendable, Equatable {
        public var text: String
        public var help: String?
        public var minLabel: String?
        public var maxLabel: String?
        public var options: [String: String]?
        /// A grid's time frame or stem ("Hvor mye av tiden de siste 4 ukene …"), on a group only: the step
        /// pages repeat it with each of the group's questions.
        public var timeFrame: String?
    }

    /// Everything that does not match `questionnaire`: unknown or missing linkIds, unknown or missing codes.
    /// Empty means the pack fits.
    public func mismatches(against questionnaire: Questionnaire) -> [String] {
        var problems: [String] = []
        if instrument != questionnaire.id {
            problems.append("the pack is for instrument '\(instrument)', not '\(questionnaire.id)'")
        }
        let known = Dictionary(questionnaire.allItems.map { ($0.linkId, $0) }, uniquingKeysWith: { a, _ in a })
        for linkId in items.keys.sorted() where known[linkId] == nil {
            problems.append("linkId '\(linkId)' is not an item of \(questionnaire.id)")
        }
        for item in questionnaire.allItems {
            guard let text = items[item.linkId] else {
                problems.append("item '\(item.linkId)' has no text")
                continue
            }
            if text.text.trimmingCharacters(in: .whitespaces).isEmpty {
                problems.append("item '\(item.linkId)' has an empty text")
            }
            if let timeFrame = text.timeFrame {
                if item.type != .group {
                    problems.append("item '\(item.linkId)' has a timeFrame, but only a group has one")
                } else if timeFrame.trimmingCharacters(in: .whitespaces).isEmpty {
                    problems.append("item '\(item.linkId)' has an empty timeFrame")
                }
            }
            let codes = item.optionCodes
            let packCodes = Set(text.options?.keys.map { $0 } ?? [])
            for code in codes where !packCodes.contains(code) {
                problems.append("item '\(item.linkId)' has no text for answer code '\(code)'")
            }
            for code in packCodes.sorted() where !codes.contains(code) {
                problems.append("item '\(item.linkId)' has no answer code '\(code)'")
            }
        }
        return problems
    }
}
