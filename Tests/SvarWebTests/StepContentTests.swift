import Foundation
import Hummingbird
import SvarAssets
import SvarInstruments
import SvarServices
import Testing

@testable import SvarWeb

/// What the step pages show besides the questions: the instrument's introduction on its first step, a grid's
/// time frame with each of its questions, and the EQ VAS drawn as a vertical scale with its end labels and the
/// value chosen.
@Suite struct StepContentTests {
    let catalogue: InstrumentCatalogue
    let pages: StepPages

    init() async throws {
        catalogue = try InstrumentLoader.catalogue(instruments: sourceInstruments)
        pages = StepPages(pages: try await PageRenderer.load(webDirectory: sourceWeb))
    }

    func html(_ step: PatientAnswering.Step, _ language: Language, value: String = "") throws -> String {
        let values = StepPageValues(
            csrf: "c", action: "/a/t/s/\(step.number)?lang=\(language.rawValue)", hasBack: false,
            languageURL: { "/a/t?lang=\($0.rawValue)" }, value: { _ in value }, checked: { _, _ in "" })
        let (context, title) = pages.context(step, of: 12, language, values, problems: [:])
        return try #require(
            pages.pages.renderText("step", language: language, title: title, context: context, languageURL: { _ in "" }, csrf: "c"))
    }

    @Test(arguments: Language.allCases)
    func theIntroductionOpensTheFirstStepOfEachInstrumentOnly(_ language: Language) throws {
        let instruments = ["rand36", "eq5d-5l", "kvarus-followup"].compactMap { catalogue.instrument($0) }
        let steps = PatientAnswering.steps(instruments)
        for step in steps {
            let introduction = try #require(step.instrument.texts[language]?.introduction)
            let first = steps.first { $0.instrument.id == step.instrument.id }?.number == step.number
            let page = try html(step, language)
            let shown = page.contains(#"<p class="instrument-intro">\#(escape(introduction))</p>"#)
            #expect(shown == first, "\(step.instrument.id) step \(step.number) \(language)")
        }
        #expect(steps.filter { $0.number == 1 || $0.instrument.id != steps[$0.number - 2].instrument.id }.count == 3)
    }

    @Test(arguments: Language.allCases)
    func aGridsTimeFrameIsRepeatedAtEachOfItsItems(_ language: Language) throws {
        let rand = try #require(catalogue.instrument("rand36"))
        let pack = try #require(rand.texts[language])
        var grids = 0
        for step in PatientAnswering.steps([rand]) {
            let page = try html(step, language)
            guard let timeFrame = pack.items[step.group.linkId]?.timeFrame else {
                #expect(!page.contains("time-frame"), "\(step.group.linkId)")
                continue
            }
            grids += 1
            for question in step.questions {
                let text = try #require(pack.items[question.linkId]?.text)
                // In the legend, before the question: read together with the answers below it.
                let legend = #"<legend class="question-text"><span class="time-frame">\#(escape(timeFrame))</span> \#(escape(text))"#
                #expect(page.contains(legend), "\(step.group.linkId) item \(question.linkId) \(language)")
            }
            #expect(page.components(separatedBy: #"<span class="time-frame">"#).count - 1 == step.questions.count)
        }
        #expect(grids == 4)  // activities (now), physical role, emotional role, feelings (the past 4 weeks)
        #expect(pack.items["g-feelings"]?.timeFrame?.contains("4") == true)
    }

    static let ends: [Language: (best: String, worst: String)] = [
        .nb: ("Den beste helsen du kan tenke deg", "Den dårligste helsen du kan tenke deg"),
        .nn: ("Den beste helsa du kan tenkje deg", "Den dårlegaste helsa du kan tenkje deg"),
        .en: ("The best health you can imagine", "The worst health you can imagine"),
    ]

    @Test(arguments: Language.allCases, ["eq5d-5l", "eq5d-3l"])
    func theVASIsAVerticalScaleWithBothEndLabelsAndTheValueChosen(_ language: Language, _ id: String) throws {
        let instrument = try #require(catalogue.instrument(id))
        let step = try #require(PatientAnswering.steps([instrument]).first { $0.group.linkId == "g-vas" })
        let ends = try #require(Self.ends[language])
        #expect(instrument.texts[language]?.items["VAS"]?.maxLabel == ends.best)
        let empty = try html(step, language)
        // The best at the top, the worst at the bottom, each with its number; the field is plain text.
        let top = try #require(
            empty.range(of: #"<p class="scale-end" id="q-VAS-top"><span class="scale-end-number">100:</span> \#(ends.best)</p>"#))
        let drawing = try #require(empty.range(of: #"<svg class="scale-drawing""#))
        let bottom = try #require(
            empty.range(of: #"<p class="scale-end" id="q-VAS-bottom"><span class="scale-end-number">0:</span> \#(ends.worst)</p>"#))
        #expect(top.lowerBound < drawing.lowerBound && drawing.lowerBound < bottom.lowerBound)
        #expect(empty.contains(#"type="text" inputmode="numeric" spellcheck="false" name="VAS" id="q-VAS""#))
        #expect(!empty.contains(#"type="number""#))
        #expect(empty.contains(#"aria-describedby="q-VAS-hint q-VAS-top q-VAS-bottom""#))
        #expect(empty.contains(#"aria-hidden="true" focusable="false""#))
        // Ruler: 101 ticks, a number every ten from 100 at the top (y 12) to 0 at the bottom (y 412).
        #expect(empty.components(separatedBy: "h9").count - 1 + empty.components(separatedBy: "h16").count - 1 == 101 - 11)
        #expect(empty.contains(#"<text class="scale-number" x="38" y="12">100</text>"#))
        #expect(empty.contains(#"<text class="scale-number" x="38" y="212">50</text>"#))
        #expect(empty.contains(#"<text class="scale-number" x="38" y="412">0</text>"#))
        #expect(!empty.contains("scale-bar") && !empty.contains("scale-chosen"))
        // Chosen 65: a marker at y 152 with the number, and the value in words beside the field.
        let chosen = try html(step, language, value: "65")
        #expect(chosen.contains(#"<path class="scale-bar" d="M40 152h40"/>"#))
        #expect(chosen.contains(#"<text class="scale-value" x="100" y="152">65</text>"#))
        let words = [Language.nb: "Du har valgt:", .nn: "Du har valt:", .en: "You chose:"][language] ?? ""
        #expect(chosen.contains(#"<p class="scale-chosen" id="q-VAS-chosen">\#(words) <strong>65</strong></p>"#))
        #expect(chosen.contains(#"aria-describedby="q-VAS-hint q-VAS-top q-VAS-bottom q-VAS-chosen""#))
        // A value that is no number in range draws no marker.
        for typed in ["7,5", "101", "-3"] {
            #expect(!(try html(step, language, value: typed)).contains("scale-bar"), "\(typed)")
        }
        // Such a step is always rendered by the template (no skeleton).
        #expect(pages.skeleton(step, of: 2, language) == nil)
    }

    /// A short scale (Kvarus quality of life, 0–10) numbers every unit; its end labels carry no number of their
    /// own, so each end reads "10: Svært god" once.
    @Test func aShortScaleNumbersEveryUnit() throws {
        let kvarus = try #require(catalogue.instrument("kvarus-followup"))
        let step = try #require(PatientAnswering.steps([kvarus]).first { $0.questions.contains { $0.linkId == "qualityOfLife" } })
        let page = try html(step, .nb, value: "7")
        #expect(page.contains(#"id="q-qualityOfLife-top"><span class="scale-end-number">10:</span> Svært god</p>"#))
        #expect(page.contains(#"id="q-qualityOfLife-bottom"><span class="scale-end-number">0:</span> Svært dårlig</p>"#))
        #expect(page.components(separatedBy: #"<text class="scale-number""#).count - 1 == 11)
        #expect(page.contains(#"<text class="scale-value" x="100" y="132">7</text>"#))
    }

    /// A plain number question (no end labels) keeps the plain text field, with no scale.
    @Test func aNumberWithoutEndLabelsHasNoScale() throws {
        let kvarus = try #require(catalogue.instrument("kvarus-followup"))
        let step = try #require(PatientAnswering.steps([kvarus]).first { $0.questions.contains { $0.linkId == "alcoholDays" } })
        let page = try html(step, .nb)
        #expect(page.contains(#"type="text" inputmode="numeric" spellcheck="false" name="alcoholDays""#))
        #expect(!page.contains(#"id="q-alcoholDays-top""#))
    }

    func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "'", with: "&#39;")
    }
}
