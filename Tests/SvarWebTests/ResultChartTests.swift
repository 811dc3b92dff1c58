import Foundation
import SvarAssets
import SvarInstruments
import Testing

@testable import SvarWeb

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The result charts as a browser and a screen reader get them: well-formed SVG, values at the right
/// height, gaps for missing values, norms only where comparable, escaped text, unique ids, readable contrast;
/// and the norms file they draw from.
@Suite struct ResultChartTests {
    @Test func valuesAreRoundedHalfAwayFromZeroLikeEveryOtherScore() {
        #expect(ResultChart.number(62.5, 0, .bokmal) == "63")
        #expect(ResultChart.number(67.5, 0, .bokmal) == "68")
        #expect(ResultChart.number(-0.0004, 3, .bokmal) == "0,000")
        #expect(ResultChart.number(0.125, 2, .bokmal) == "0,13")
    }

    static let instruments = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/SvarAssets/instruments")

    static let scales: [(id: String, label: String)] = [
        ("physicalFunctioning", "Fysisk funksjon"), ("rolePhysical", "Rollebegrensning fysisk"),
        ("roleEmotional", "Rollebegrensning emosjonell"), ("energyFatigue", "Energi"),
        ("emotionalWellbeing", "Emosjonelt velvære"), ("socialFunctioning", "Sosial funksjon"),
        ("pain", "Smerte"), ("generalHealth", "Generell helse"),
    ]

    func norms() throws -> ScaleNorms {
        try #require(try NormsLoader.norms(instrument: "rand36", instruments: Self.instruments))
    }

    func twoMilestones() throws -> String {
        ResultChart.profile(
            series: [
                ("Oppstart 3. mars 2026", ["physicalFunctioning": 55, "rolePhysical": 25, "pain": 40]),
                ("Evaluering 1. juni 2026", ["physicalFunctioning": 70, "rolePhysical": 100, "pain": 61.5]),
            ],
            scales: Self.scales, norms: try norms(), title: "RAND-36")
    }

    // MARK: Profile

    @Test func theProfileIsWellFormedAndDescribedInWords() throws {
        let svg = try SVG(try twoMilestones())
        let root = try #require(svg.elements.first)
        #expect(root.name == "svg" && root["role"] == "img")
        #expect(root["viewBox"]?.hasPrefix("0 0 400 ") == true)
        let title = try #require(svg.elements.first { $0.name == "title" })
        let desc = try #require(svg.elements.first { $0.name == "desc" })
        #expect(root["aria-labelledby"] == title["id"] && title.text == "RAND-36")
        #expect(root["aria-describedby"] == desc["id"])
        #expect(desc.text.contains("Fysisk funksjon 55 ved Oppstart 3. mars 2026, 70 ved Evaluering 1. juni 2026; norm 86."))
        #expect(desc.text.contains("Smerte 40 ved Oppstart 3. mars 2026, 62 ved Evaluering 1. juni 2026."))
        #expect(desc.text.contains("Energi mangler ved Oppstart 3. mars 2026"))
        #expect(svg.points.count == 6)
    }

    @Test func valuesMapToHeightsInThePlotArea() throws {
        let values: [String: Double?] = [
            "physicalFunctioning": 0, "rolePhysical": 25, "roleEmotional": 50,
            "energyFatigue": 75, "emotionalWellbeing": 100,
        ]
        let svg = try SVG(ResultChart.profile(series: [("Oppstart", values)], scales: Self.scales, norms: nil, title: "T"))
        let plot = try svg.plotArea()
        let y = try Self.scales.prefix(5).map { scale in try #require(svg.points.first { $0["data-scale"] == scale.id }).translate.y }
        #expect(abs(y[0] - (plot.y + plot.height)) < 0.06)
        #expect(abs(y[4] - plot.y) < 0.06)
        #expect(abs(y[2] - (plot.y + plot.height / 2)) < 0.06)
        #expect(zip(y, y.dropFirst()).allSatisfy { $0 > $1 })
    }

    @Test func aMissingValueMakesNoPointAndBreaksTheLine() throws {
        let svg = try SVG(
            ResultChart.profile(
                series: [
                    (
                        "Oppstart",
                        [
                            "physicalFunctioning": 50, "rolePhysical": 60, "roleEmotional": nil,
                            "energyFatigue": 40, "emotionalWellbeing": 45,
                        ]
                    )
                ],
                scales: Self.scales, norms: nil, title: "T"))
        #expect(svg.points.map { $0["data-scale"] } == ["physicalFunctioning", "rolePhysical", "energyFatigue", "emotionalWellbeing"])
        let line = try #require(svg.elements.first { $0["class"] == "series-line" }?["d"])
        #expect(line.filter { $0 == "M" }.count == 2 && line.filter { $0 == "L" }.count == 2)
    }

    @Test func theNormIsDrawnOnlyWhereComparableAndTheFootnoteSaysWhyNot() throws {
        let svg = try SVG(try twoMilestones())
        let normed = svg.elements.filter { $0["class"] == "norm-point" }
        #expect(normed.map { $0["data-scale"] } == ["physicalFunctioning", "rolePhysical"])
        #expect(normed.map { $0["data-value"] } == ["86.44", "76.64"])
        let footnote = svg.elements.filter { $0["class"] == "footnote" }.map(\.text).joined(separator: " ")
        #expect(footnote.contains("Ingen sammenlignbar norm (publisert norm er skåret på en annen måte): Smerte, Generell helse."))
        #expect(footnote.contains("Ingen norm registrert: Rollebegrensning emosjonell, Energi, Emosjonelt velvære, Sosial funksjon."))
        #expect(!footnote.contains("Fysisk funksjon"))
        #expect(svg.elements.contains { $0["class"] == "legend" && $0.text.contains("Befolkningsnorm (Garratt & Stavem 2017)") })
        let desc = try #require(svg.elements.first { $0.name == "desc" }).text
        #expect(desc.contains("Smerte, Generell helse."))
    }

    @Test func withoutNormsThereIsNoNormLineAndEveryScaleIsListed() throws {
        let svg = try SVG(ResultChart.profile(series: [("Oppstart", ["pain": 30])], scales: Self.scales, norms: nil, title: "T"))
        #expect(!svg.elements.contains { $0["class"] == "norm-point" || $0["class"] == "norm-line" })
        let footnote = svg.elements.filter { $0["class"] == "footnote" }.map(\.text).joined(separator: " ")
        #expect(Self.scales.allSatisfy { footnote.contains($0.label) })
    }

    @Test func everyCallerTextIsEscaped() throws {
        let nasty = "<b>&\"x'</b>"
        let markup = ResultChart.profile(series: [(nasty, [nasty: 10])], scales: [(nasty, nasty)], norms: nil, title: nasty)
        #expect(!markup.contains("<b>"))
        let svg = try SVG(markup)
        #expect(svg.elements.first { $0.name == "title" }?.text == nasty)
        #expect(svg.elements.contains { $0["class"] == "legend" && $0.text == nasty })
        #expect(svg.points.first?["data-scale"] == nasty)
        let trend = try SVG(ResultChart.trend(points: [(nasty, 1)], yRange: 0...100, title: nasty, unit: "&\u{1}"))
        #expect(trend.elements.first { $0.name == "desc" }?.text.contains("\(nasty): 1 & .") == true)
    }

    @Test func twoChartsOnAPageHaveDistinctIds() throws {
        let a = try twoMilestones()
        let b = ResultChart.profile(series: [("Oppstart", ["pain": 1])], scales: Self.scales, norms: nil, title: "RAND-36")
        let c = ResultChart.trend(points: [("1. mai", 0.5)], yRange: -0.6...1, title: "EQ-5D", unit: "", id: "eq<5d>")
        let ids = try [a, b, c].flatMap { try SVG($0).elements.compactMap { $0["id"] } }
        #expect(ids.count == 9 && Set(ids).count == ids.count)
        #expect(ids.contains("eq5d-title"))
        #expect(try a == twoMilestones(), "the same chart renders the same markup")
    }

    // MARK: Trend

    @Test func aSinglePointStillDrawsAMarker() throws {
        let svg = try SVG(ResultChart.trend(points: [("3. mars 2026", 70)], yRange: 0...100, title: "EQ VAS", unit: "0–100"))
        #expect(svg.points.count == 1 && svg.points[0]["data-value"] == "70.0")
        #expect(!svg.elements.contains { $0["class"] == "series-line" })
        #expect(svg.elements.first { $0.name == "desc" }?.text == "EQ VAS. 3. mars 2026: 70 0–100.")
        #expect(!svg.elements.contains { $0["class"] == "zero-line" })
    }

    @Test func aNegativeIndexIsBelowTheZeroLine() throws {
        let svg = try SVG(
            ResultChart.trend(
                points: [("3. mars", -0.2), ("1. juni", nil), ("1. sep.", 0.8)],
                yRange: -0.6...1, title: "EQ-5D-5L-indeks", unit: ""))
        let zero = try #require(svg.elements.first { $0["class"] == "zero-line" }?["y1"].flatMap(Double.init))
        let plot = try svg.plotArea()
        #expect(svg.points.map { $0["data-index"] } == ["0", "2"])
        #expect(svg.points[0].translate.y > zero && svg.points[1].translate.y < zero)
        #expect(abs(zero - (plot.y + plot.height * 1 / 1.6)) < 0.06)
        let ticks = svg.elements.filter { $0["class"] == "tick" }.map(\.text)
        #expect(ticks == ["-0,6", "-0,4", "-0,2", "0,0", "0,2", "0,4", "0,6", "0,8", "1,0"])
        #expect(svg.elements.first { $0.name == "desc" }?.text == "EQ-5D-5L-indeks. 3. mars: -0,200. 1. juni: mangler. 1. sep.: 0,800.")
        #expect(svg.elements.filter { $0["class"] == "value" }.map(\.text) == ["-0,200", "0,800"])
        #expect(svg.elements.filter { $0["class"] == "missing" }.map(\.text) == ["mangler"])
    }

    // MARK: Legibility

    @Test func textIsLargeEnoughAndEverythingContrastsWithWhite() throws {
        for markup in [try twoMilestones(), ResultChart.trend(points: [("a", 0.1), ("b", -0.3)], yRange: -0.6...1, title: "T", unit: "u")] {
            let svg = try SVG(markup)
            #expect(!markup.contains("style=") && !markup.contains("href") && !markup.contains("<script") && !markup.contains("url("))
            for text in svg.elements where text.name == "text" {
                #expect((text["font-size"].flatMap(Double.init) ?? 0) >= 12, "\(text.text)")
                #expect(contrast(try #require(text["fill"])) >= 4.5, "\(text.text)")
            }
            for element in svg.elements where element.name != "text" {
                for colour in [element["fill"], element["stroke"]].compactMap({ $0 }) where colour != "none" && colour != "#ffffff" {
                    #expect(contrast(colour) >= 3, "\(element.name) \(colour)")
                }
            }
        }
    }

    @Test func rotatedLabelsStayInsideTheDrawing() throws {
        let svg = try SVG(try twoMilestones())
        let first = try #require(svg.elements.first { $0["class"] == "x-label" })
        let x = try #require(first["x"].flatMap(Double.init))
        #expect(first["transform"]?.hasPrefix("rotate(-45") == true)
        #expect(x - ResultChart.textWidth(first.text, 12) * 0.7071 >= 0)
    }

    // MARK: Norms file

    @Test func theBundledNormsHavePhysicalFunctioningAndRolePhysicalOnly() throws {
        let norms = try norms()
        #expect(norms.doi == "10.1186/s12955-017-0625-9")
        #expect(norms.scales["physicalFunctioning"] == .norm(mean: 86.44, sd: 20.42))
        #expect(norms.scales["rolePhysical"] == .norm(mean: 76.64, sd: 37.39))
        #expect(norms.missingReason("pain") == .notComparable && norms.missingReason("generalHealth") == .notComparable)
        for scale in ["roleEmotional", "energyFatigue", "emotionalWellbeing", "socialFunctioning"] {
            #expect(norms.missingReason(scale) == .noNormOnFile)
        }
        #expect(Set(norms.scales.keys) == Set(Self.scales.map(\.id)))
    }

    @Test func aMissingNormsFileIsNoNorms() throws {
        #expect(try NormsLoader.norms(instrument: "eq5d-5l", instruments: Self.instruments) == nil)
    }

    @Test(arguments: [
        (#""mean": 86.44"#, #""mean": 140"#, "rand36/norms.json: scales.physicalFunctioning.mean: must be between 0 and 100"),
        (#""mean": 86.44, "sd": 20.42"#, #""mean": 86.44"#, "rand36/norms.json: scales.physicalFunctioning.sd: is missing"),
        (#""reason": "notComparable""#, #""reason": "maybe""#, "rand36/norms.json: scales.pain.reason:"),
        (#""physicalFunctioning""#, #""physicalFunction""#, "rand36/norms.json: scales.physicalFunction: not a scale"),
    ])
    func aMalformedNormsFileNamesTheFileAndField(original: String, broken: String, message: String) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("svar-norms-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("rand36"), withIntermediateDirectories: true)
        for file in ["norms.json", "scoring.json"] {
            var text = try String(contentsOf: Self.instruments.appendingPathComponent("rand36/\(file)"), encoding: .utf8)
            if file == "norms.json" {
                let range = try #require(text.range(of: original))
                text.replaceSubrange(range, with: broken)
            }
            try text.write(to: root.appendingPathComponent("rand36/\(file)"), atomically: true, encoding: .utf8)
        }
        let error = #expect(throws: AssetError.self) { try NormsLoader.norms(instrument: "rand36", instruments: root) }
        #expect(error?.description.hasPrefix(message) == true, "\(String(describing: error))")
    }
}

// MARK: - Reading the SVG back

extension ResultChartTests {
    /// The chart parsed by Foundation's XML parser, elements in document order.
    struct SVG {
        struct Element {
            let name: String
            let attributes: [String: String]
            var text = ""
            subscript(_ key: String) -> String? { attributes[key] }
            var translate: (x: Double, y: Double) {
                let numbers = (self["transform"] ?? "").split(whereSeparator: { "() ".contains($0) }).compactMap { Double($0) }
                return (numbers.first ?? .nan, numbers.dropFirst().first ?? .nan)
            }
        }

        let elements: [Element]
        var points: [Element] { elements.filter { $0["class"] == "point" } }

        init(_ markup: String) throws {
            let collector = Collector()
            let parser = XMLParser(data: Data(markup.utf8))
            parser.delegate = collector
            guard parser.parse() else { throw ParseError(description: "\(parser.parserError.map { "\($0)" } ?? "?") in \(markup)") }
            elements = collector.elements
        }

        func plotArea() throws -> (y: Double, height: Double) {
            let rect = try #require(elements.first { $0["class"] == "plot-area" })
            return (try #require(rect["y"].flatMap(Double.init)), try #require(rect["height"].flatMap(Double.init)))
        }

        struct ParseError: Error, CustomStringConvertible { let description: String }

        final class Collector: NSObject, XMLParserDelegate {
            var elements: [Element] = []
            var open: [Int] = []

            func parser(
                _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]
            ) {
                open.append(elements.count)
                elements.append(Element(name: name, attributes: attributes))
            }

            func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
                open.removeLast()
            }

            func parser(_ parser: XMLParser, foundCharacters string: String) {
                if let index = open.last { elements[index].text += string }
            }
        }
    }

    /// WCAG contrast of a `#rrggbb` colour against white.
    func contrast(_ hex: String) -> Double {
        guard hex.count == 7, let value = Int(hex.dropFirst(), radix: 16) else { return 0 }
        func linear(_ byte: Int) -> Double {
            let c = Double(byte) / 255
            return c <= 0.03928 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
        }
        let channels = [linear(value >> 16), linear((value >> 8) & 0xFF), linear(value & 0xFF)]
        let luminance = 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]
        return 1.05 / (luminance + 0.05)
    }
}
