import Foundation
import Hummingbird
import SvarAssets
import SvarInstruments
import SvarServices
import Testing

@testable import SvarWeb

/// Step pages filled into their skeletons are byte for byte the pages the Mustache template renders with the
/// same values: every step of every instrument in every language, with answers and without, and with text packs
/// full of markup, quotes and the skeleton's own marker characters.
@Suite struct StepPageRenderingTests {
    /// Values that need escaping wherever they land (the CSRF value and the URLs are the request's).
    static let hostileValues = #"<b>"x" & 'y'</b>"#

    /// As the controller gives them: a way back from every step but the first.
    func values(_ draft: [String: Int], csrf: String, base: String, step: Int) -> StepPageValues {
        let shown: (String) -> String = { draft[$0].map(String.init) ?? "" }
        return StepPageValues(
            csrf: csrf, action: "\(base)/s/2?lang=nb", hasBack: step > 1,
            languageURL: { "\(base)/s/2?lang=\($0.rawValue)" },
            value: shown, checked: { shown($0) == $1 ? " checked" : "" })
    }

    /// Every second question answered with a valid value (the choice's last option, the integer's minimum).
    func draft(_ step: PatientAnswering.Step) -> [String: Int] {
        var draft: [String: Int] = [:]
        for (index, q) in step.questions.enumerated() where index % 2 == 0 {
            draft[q.linkId] = q.type == .integer ? (q.minValue ?? 0) : Int(q.answerOption?.last?.valueCoding.code ?? "") ?? 1
        }
        return draft
    }

    /// Where two pages part: a little of each from the first differing character.
    static func firstDifference(_ a: String, _ b: String) -> String {
        let same = zip(a, b).prefix { $0 == $1 }.count
        return "at \(same): «\(a.dropFirst(same).prefix(80))» against «\(b.dropFirst(same).prefix(80))»"
    }

    func body(_ response: Response) async throws -> String {
        let collector = BodyCollector()
        try await response.body.write(collector)
        return String(buffer: collector.collected)
    }

    /// Compares both paths for every step and language of `instruments`; returns the pages compared.
    func compareEverywhere(_ instruments: [Instrument], pages: StepPages, expectSkeletons: Bool = true) async throws -> [String] {
        var compared: [String] = []
        let steps = PatientAnswering.steps(instruments)
        for language in Language.allCases {
            for step in steps {
                for draft in [[:], draft(step)] {
                    for csrf in ["Abc_123-xyz", Self.hostileValues] {
                        let base = "/a/tok\(csrf == Self.hostileValues ? Self.hostileValues : "")"
                        let v = values(draft, csrf: csrf, base: base, step: step.number)
                        let place = "\(step.instrument.id) step \(step.number) \(language) \(draft.count) answers"
                        // A step that draws a scale has no skeleton (its marker moves with the answer).
                        let pack = step.instrument.texts[language] ?? step.instrument.texts[.nb]
                        let drawsScale = step.questions.contains { pages.scale($0, pack?.items[$0.linkId]) != nil }
                        if expectSkeletons {
                            #expect((pages.skeleton(step, of: steps.count, language) != nil) == !drawsScale, "skeleton for \(place)")
                        }
                        let filled = try await body(pages.page(step, of: steps.count, language, v, problems: [:]))
                        let rendered = try await body(pages.page(step, of: steps.count, language, v, problems: [:], fromSkeleton: false))
                        #expect(filled == rendered, "\(place): \(Self.firstDifference(filled, rendered))")
                        compared.append(filled)
                    }
                }
            }
        }
        return compared
    }

    @Test func everyStepOfEveryInstrumentInEveryLanguageRendersTheSameHTML() async throws {
        let catalogue = try InstrumentLoader.catalogue(instruments: sourceInstruments)
        let pages = StepPages(pages: try await PageRenderer.load(webDirectory: sourceWeb))
        var total = 0
        for instrument in catalogue.instruments {
            total += try await compareEverywhere([instrument], pages: pages).count
        }
        // The default protocol's baseline (two instruments, one step count across both).
        let baseline = ["rand36", "eq5d-5l"].compactMap { catalogue.instrument($0) }
        let pagesOfBaseline = try await compareEverywhere(baseline, pages: pages)
        #expect(baseline.count == 2 && total > 100 && pagesOfBaseline.count > 40)
        // The answers so far are checked in the filled page too, and the request's values escaped.
        #expect(pagesOfBaseline.contains { $0.contains(" checked>") })
        #expect(pagesOfBaseline.contains { $0.contains(#"value="&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;""#) })
        #expect(!pagesOfBaseline.contains { $0.contains(Self.hostileValues) })
    }

    /// A step opened from the review ("Change") has its own skeleton — the button says it returns to the review,
    /// the action carries `return=review` — and it too is byte for byte the template's page.
    @Test func aStepOpenedFromTheReviewRendersTheSameHTMLOnBothPaths() async throws {
        let catalogue = try InstrumentLoader.catalogue(instruments: sourceInstruments)
        let pages = StepPages(pages: try await PageRenderer.load(webDirectory: sourceWeb))
        let steps = PatientAnswering.steps(["rand36", "eq5d-5l"].compactMap { catalogue.instrument($0) })
        for language in Language.allCases {
            for step in steps {
                var v = values(draft(step), csrf: "Abc_123-xyz", base: "/a/tok", step: step.number)
                v = StepPageValues(
                    csrf: v.csrf, action: v.action + "&return=review", hasBack: v.hasBack, returnToReview: true,
                    languageURL: v.languageURL, value: v.value, checked: v.checked)
                let filled = try await body(pages.page(step, of: steps.count, language, v, problems: [:]))
                let rendered = try await body(pages.page(step, of: steps.count, language, v, problems: [:], fromSkeleton: false))
                #expect(filled == rendered, "step \(step.number) \(language): \(Self.firstDifference(filled, rendered))")
                #expect(filled.contains("&amp;return=review"))
                let plain = try await body(
                    pages.page(step, of: steps.count, language, values([:], csrf: "c", base: "/a/tok", step: step.number), problems: [:]))
                #expect(filled.contains(pages.pages.text("saveReturnButton", language)))
                #expect(!plain.contains(pages.pages.text("saveReturnButton", language)), "the plain step's skeleton is its own")
            }
        }
    }

    /// A text pack with markup is escaped the same way on both paths; one using the marker characters gets no
    /// skeleton (its steps are rendered by the template every time) and still renders correctly.
    @Test func hostileTextPacksAreEscapedAndMarkerCharactersFallBackToTheTemplate() async throws {
        let packs = FileManager.default.temporaryDirectory.appendingPathComponent("svar-hostile-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: packs) }
        let hostile = #"<script>alert("x")</script> & 'q'"#
        for (marker, suffix) in [("", "markup"), ("\u{E000}0\u{E001} \u{E001}", "markers")] {
            let folder = packs.appendingPathComponent(suffix).appendingPathComponent("eq5d-5l")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let bundled = sourceInstruments.appendingPathComponent("eq5d-5l/text/nb.json")
            var pack = try JSONDecoder().decode(TextPack.self, from: Data(contentsOf: bundled))
            pack.title = hostile + marker
            pack.items = pack.items.mapValues { item in
                var item = item
                item.text = "\(hostile)\(marker) \(item.text)"
                item.options = item.options?.mapValues { "\(hostile) \($0)" }
                return item
            }
            try JSONEncoder().encode(pack).write(to: folder.appendingPathComponent("nb.json"))
            let catalogue = try InstrumentLoader.catalogue(instruments: sourceInstruments, textPacks: packs.appendingPathComponent(suffix))
            let instrument = try #require(catalogue.instrument("eq5d-5l"))
            let pages = StepPages(pages: try await PageRenderer.load(webDirectory: sourceWeb))
            let compared = try await compareEverywhere([instrument], pages: pages, expectSkeletons: marker.isEmpty)
            let bokmaal = compared.filter { $0.contains(#"<html lang="nb">"#) }
            let escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;"
            #expect(!bokmaal.isEmpty && bokmaal.allSatisfy { $0.contains(escaped) })
            #expect(!compared.contains { $0.contains("<script>") })
            if !marker.isEmpty {
                let step = try #require(PatientAnswering.steps([instrument]).first)
                #expect(pages.skeleton(step, of: 1, .nb) == nil)
                #expect(pages.skeleton(step, of: 1, .en) != nil)
                #expect(bokmaal.allSatisfy { $0.contains("\u{E000}0\u{E001}") })
            }
        }
    }
}

/// Collects a response body's buffers.
private final class BodyCollector: ResponseBodyWriter {
    var collected = ByteBuffer()
    func write(_ buffer: ByteBuffer) async throws { collected.writeImmutableBuffer(buffer) }
    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
