import Foundation

/// An answer as the patient's browser sent it, read strictly. The number field is plain text
/// (`inputmode="numeric"`), so whatever was typed arrives unchanged: "7,5", "75%" or "-3" must come back as an
/// error with the text shown again, never be turned into some other number (a browser's own number field used
/// to drop the comma of "7,5" and send 75).
public enum TypedAnswer: Sendable, Equatable {
    /// Nothing typed (or only spaces).
    case empty
    /// Only the digits 0–9 (surrounding spaces aside): the number they spell. Leading zeros are the same
    /// number ("075" is 75); a number too long for `Int` reads as `Int.max`, which no range holds.
    case whole(Int)
    /// Anything else: a sign, a decimal comma or point, a unit, a letter, digits of another script.
    case notWhole

    /// Reads `text`. Spaces around the digits are not part of the answer (phone keyboards add one after a
    /// word); spaces inside ("7 5") are.
    public init(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty {
            self = .empty
        } else if trimmed.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
            self = .whole(Int(trimmed) ?? Int.max)
        } else {
            self = .notWhole
        }
    }

    /// The number, if the text is one.
    public var value: Int? {
        if case .whole(let n) = self { return n }
        return nil
    }
}

/// Why a step's answer was not saved; the step page words each in the patient's language.
public enum AnswerProblem: String, Sendable, Equatable {
    /// A required question left empty.
    case required
    /// A choice that is not one of the question's answers (only a hand-made request sends one).
    case invalid
    /// A number question answered with something that is not a whole number written in digits.
    case notWhole
    /// A whole number outside the question's minimum and maximum.
    case range
}
