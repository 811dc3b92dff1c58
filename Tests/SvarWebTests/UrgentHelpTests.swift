import Foundation
import Hummingbird
import HummingbirdTesting
import SvarAssets
import SvarInstruments
import SvarServices
import Testing

@testable import SvarWeb

/// The urgent-help callout: on the landing page, on the steps holding a question the instrument's
/// `safety.json` marks sensitive (and on no other), and on the thank-you page, in the patient's language, with
/// the installation's own line (`SVAR_CONTACT_TEXT`) escaped, or without it when unset.
@Suite struct UrgentHelpTests {
    typealias Browser = PatientPageTests.Browser

    static let headings: [Language: String] = [.nb: "Trenger du hjelp nå?", .nn: "Treng du hjelp no?", .en: "Do you need help now?"]
    static let contact = #"Ring <b>poliklinikken</b> på 22 11 33 44 & spør etter "sykepleier""#
    static let contactEscaped = "Ring &lt;b&gt;poliklinikken&lt;/b&gt; på 22 11 33 44 &amp; spør etter &quot;sykepleier&quot;"

    /// Whether `html` holds the whole callout in `language`, and its contact line is (escaped) `contact` or absent.
    func expectCallout(_ html: String, _ language: Language, contact: String?, _ place: String) {
        #expect(html.contains(#"<section class="urgent-help" aria-labelledby="urgent-help-heading">"#), "\(place): no callout")
        #expect(html.contains(">\(Self.headings[language] ?? "")</h2>"), "\(place): heading not in \(language)")
        #expect(html.contains(#"href="tel:113">113</a>"#), "\(place): no 113")
        #expect(html.contains(#"href="tel:116117">116&nbsp;117</a>"#), "\(place): no 116 117")
        if contact != nil {
            #expect(html.contains(#"<p class="urgent-help-contact">\#(Self.contactEscaped)</p>"#), "\(place): contact line")
            #expect(!html.contains("<b>poliklinikken</b>"), "\(place): the contact line is not escaped")
        } else {
            #expect(!html.contains("urgent-help-contact"), "\(place): a contact line without SVAR_CONTACT_TEXT")
        }
    }

    @Test(arguments: Language.allCases, [nil, contact])
    func theCalloutIsOnTheLandingPageSensitiveStepsAndTheThankYouPage(_ language: Language, _ contact: String?) async throws {
        let app = try await TestApp.make { $0.contactText = contact }
        try await app.application.test(.router) { client in
            let (link, _) = try await PatientPageTests().invitationLink(client, app)
            let browser = Browser(client)
            let lang = language.rawValue
            expectCallout(try await browser.get("\(link)?lang=\(lang)").html, language, contact: contact, "landing")
            // RAND-36 step 6 holds items 25 and 28; step 9 EQ-5D's anxiety/depression (both in safety.json).
            for sensitive in [6, 9] {
                expectCallout(
                    try await browser.get("\(link)/s/\(sensitive)?lang=\(lang)").html, language, contact: contact, "step \(sensitive)")
            }
            for plain in [1, 2, 3, 4, 5, 7, 8, 10] {
                let page = try await browser.get("\(link)/s/\(plain)?lang=\(lang)")
                #expect(page.status == .ok)
                #expect(!page.html.contains("urgent-help"), "step \(plain) is not sensitive but shows the callout")
            }
            let review = try await PatientPageTests().answerAll(browser, link, language: lang)
            #expect(!review.html.contains("urgent-help"))
            let submitted = try await browser.post("\(link)/submit?lang=\(lang)", ["csrf": try #require(review.csrf)])
            let thanks = try await browser.get(try #require(submitted.location))
            #expect(thanks.status == .ok)
            expectCallout(thanks.html, language, contact: contact, "thank-you page")
        }
    }

    @Test func theCalloutIsOnEveryStepWithASensitiveItemOfEveryInstrument() async throws {
        let catalogue = try InstrumentLoader.catalogue(instruments: sourceInstruments)
        let pages = StepPages(pages: try await PageRenderer.load(webDirectory: sourceWeb), contactText: "Ring oss")
        var sensitiveSteps = 0
        for instrument in catalogue.instruments {
            for step in PatientAnswering.steps([instrument]) {
                let sensitive = step.questions.contains { instrument.isSensitive($0.linkId) }
                sensitiveSteps += sensitive ? 1 : 0
                let values = StepPageValues(
                    csrf: "c", action: "/a/t/s/1?lang=nn", hasBack: false, languageURL: { "/a/t?lang=\($0.rawValue)" }, value: { _ in "" },
                    checked: { _, _ in "" })
                let (context, _) = pages.context(step, of: 1, .nn, values, problems: [:])
                #expect((context["urgentHelp"] != nil) == sensitive, "\(instrument.id) \(step.group.linkId)")
                let html = try #require(
                    pages.pages.renderText("step", language: .nn, title: "t", context: context, languageURL: { _ in "" }, csrf: "c"))
                #expect(html.contains("Treng du hjelp no?") == sensitive, "\(instrument.id) \(step.group.linkId)")
                #expect(html.contains("Ring oss") == sensitive)
            }
        }
        // rand36 (items 25, 28 on one step), both EQ-5D (AD), Kvarus (overdose, injecting).
        #expect(sensitiveSteps >= 4)
    }

    @Test func contactTextIsCheckedAtStartUp() throws {
        #expect(try SvarConfiguration.fromEnvironment([:]).contactText == nil)
        let line = "Har du spørsmål, ring poliklinikken på 22 11 33 44 (hverdager 8–15)."
        #expect(try SvarConfiguration.fromEnvironment(["SVAR_CONTACT_TEXT": line]).contactText == line)
        let longest = String(repeating: "æ", count: 200)
        #expect(try SvarConfiguration.fromEnvironment(["SVAR_CONTACT_TEXT": longest]).contactText == longest)
        let refused: [(String, String)] = [
            (longest + "x", "201 characters"), ("Ring\noss", "U+000A"), ("Ring\u{7}", "U+0007"),
            ("Ring 22\u{202E}44 33", "U+202E"), ("Ring\u{200B}oss", "U+200B"), ("Ring \u{E000}0\u{E001}", "U+E000"),
            ("   ", "only spaces"),
        ]
        for (text, reason) in refused {
            #expect {
                _ = try SvarConfiguration.fromEnvironment(["SVAR_CONTACT_TEXT": text])
            } throws: { error in
                guard let problem = error as? ConfigurationProblem else { return false }
                return problem.variable == "SVAR_CONTACT_TEXT" && problem.reason.contains(reason)
                    && problem.description.hasPrefix("SVAR_CONTACT_TEXT: ")
            }
        }
    }
}
