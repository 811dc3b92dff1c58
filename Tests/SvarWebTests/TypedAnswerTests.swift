import Foundation
import Hummingbird
import HummingbirdTesting
import SvarInstruments
import SvarServices
import SvarTestSupport
import Testing

@testable import SvarWeb

/// Number answers are read strictly (digits only, within the item's range): what is not a whole number in
/// digits comes back with an error in the patient's language, naming the question and showing what was typed,
/// and is never stored as some other number.
@Suite struct TypedAnswerTests {
    typealias Browser = PatientPageTests.Browser

    /// Opens a new invitation's EQ VAS step in `language` and sends `typed` as the answer.
    static func typeIntoVAS(_ typed: String, _ language: Language, _ client: any TestClientProtocol, _ app: TestApp) async throws -> (
        browser: Browser, uri: String, reply: PatientPageTests.Page
    ) {
        let (link, _) = try await PatientPageTests().invitationLink(client, app)
        let browser = Browser(client)
        let uri = "\(link)/s/\(vasStep)?lang=\(language.rawValue)"
        let page = try await browser.get(uri)
        return (browser, uri, try await browser.post(uri, ["csrf": try #require(page.csrf), "VAS": typed]))
    }

    @Test(arguments: [
        ("7,5", TypedAnswer.notWhole), ("7.5", .notWhole), ("75%", .notWhole), ("-3", .notWhole), ("+75", .notWhole),
        ("7 5", .notWhole), ("1e2", .notWhole), ("٧٥", .notWhole), ("７５", .notWhole), ("0x4B", .notWhole), ("seventy", .notWhole),
        (" 75", .whole(75)), ("75 ", .whole(75)), ("075", .whole(75)), ("0", .whole(0)), ("100", .whole(100)), ("101", .whole(101)),
        ("", .empty), ("   ", .empty), ("99999999999999999999999", .whole(Int.max)),
    ])
    func typedTextIsReadAsDigitsOnly(_ text: String, _ expected: TypedAnswer) {
        #expect(TypedAnswer(text) == expected, "«\(text)»")
    }

    static let vasStep = 10  // rand36 has 8 steps, EQ-5D-5L's dimensions are step 9, its VAS step 10
    static let vasQuestion: [Language: String] = [
        .nb: "Helsen din samlet sett i dag, fra 0 til 100", .nn: "Helsa di samla sett i dag, frå 0 til 100",
        .en: "Your overall health today, from 0 to 100",
    ]
    /// The start of each message, with what was typed in it.
    static func message(_ problem: AnswerProblem, typed: String, _ language: Language) -> String {
        switch (problem, language) {
        case (.notWhole, .nb): return "Du skrev «\(typed)». Skriv et helt tall fra 0 til 100."
        case (.notWhole, .nn): return "Du skreiv «\(typed)». Skriv eit heilt tal frå 0 til 100."
        case (.notWhole, .en): return "You wrote “\(typed)”. Write a whole number from 0 to 100."
        case (.range, .nb): return "Du skrev «\(typed)». Tallet må være fra 0 til 100."
        case (.range, .nn): return "Du skreiv «\(typed)». Talet må vere frå 0 til 100."
        case (.range, .en): return "You wrote “\(typed)”. The number must be from 0 to 100."
        case (.required, .nb): return "Svar på dette spørsmålet."
        default: return ""
        }
    }

    @Test(
        arguments: Language.allCases,
        [
            ("7,5", AnswerProblem.notWhole), ("75%", .notWhole), ("-3", .notWhole), ("101", .range), ("7.5", .notWhole),
        ])
    func aNumberThatIsNotOneComesBackWithTheTextTypedAndNothingIsStored(_ language: Language, _ bad: (String, AnswerProblem)) async throws {
        let (typed, problem) = bad
        let app = try await TestApp.make()
        try await app.application.test(.router) { client in
            let (browser, uri, refused) = try await Self.typeIntoVAS(typed, language, client, app)
            #expect(refused.status == .unprocessableContent)
            // The field shows what was typed, not a number made of it.
            #expect(refused.html.contains(#"name="VAS" id="q-VAS" value="\#(typed)""#))
            #expect(refused.html.contains(#"aria-invalid="true""#))
            // The message, beside the field and in the summary, where it names the question.
            let message = Self.message(problem, typed: typed, language)
            #expect(!message.isEmpty && refused.html.contains(message), "\(language): \(message)")
            let question = try #require(Self.vasQuestion[language])
            #expect(refused.html.contains(##"<a href="#q-VAS">\##(question): \##(message)"##))
            // No marker on the scale for a value that is not one; the draft holds nothing.
            #expect(!refused.html.contains("scale-chosen"))
            let again = try await browser.get(uri)
            #expect(again.html.contains(#"name="VAS" id="q-VAS" value="""#))
            #expect(!again.html.contains("scale-chosen"))
        }
    }

    @Test(arguments: [("075", 75), (" 75", 75), ("0", 0), ("100", 100)])
    func wholeNumbersInRangeAreSaved(_ typed: String, _ stored: Int) async throws {
        let app = try await TestApp.make()
        try await app.application.test(.router) { client in
            let (browser, uri, saved) = try await Self.typeIntoVAS(typed, .nb, client, app)
            #expect(saved.status == .seeOther)
            let again = try await browser.get(uri)
            #expect(again.html.contains(#"name="VAS" id="q-VAS" value="\#(stored)""#))
            #expect(again.html.contains(#"<p class="scale-chosen" id="q-VAS-chosen">Du har valgt: <strong>\#(stored)</strong></p>"#))
        }
    }

    @Test(arguments: Language.allCases)
    func aRequiredNumberLeftEmptyIsNamed(_ language: Language) async throws {
        let app = try await TestApp.make()
        try await app.application.test(.router) { client in
            let (_, _, refused) = try await Self.typeIntoVAS("", language, client, app)
            #expect(refused.status == .unprocessableContent)
            let question = try #require(Self.vasQuestion[language])
            #expect(refused.html.contains(##"<a href="#q-VAS">\##(question): "##))
            #expect(refused.html.contains(#"id="q-VAS-error""#))
            if language == .nb { #expect(refused.html.contains(Self.message(.required, typed: "", .nb))) }
        }
    }

    /// A choice is read the same way: "+1" or " 1x" is no answer code.
    @Test func aChoiceCodeIsReadAsDigitsOnlyToo() async throws {
        let app = try await TestApp.make()
        try await app.application.test(.router) { client in
            let (link, _) = try await PatientPageTests().invitationLink(client, app)
            let browser = Browser(client)
            let page = try await browser.get("\(link)/s/1?lang=nb")
            let refused = try await browser.post("\(link)/s/1?lang=nb", ["csrf": try #require(page.csrf), "1": "+1", "2": "2"])
            #expect(refused.status == .unprocessableContent)
            #expect(refused.html.contains(#"id="q-1-error""#))
            #expect(refused.html.contains(#"id="q-2-2" value="2" checked"#))
        }
    }
}
