import Foundation
import SvarInstruments

/// The words a chart adds around the caller's labels; Norwegian bokmål unless the page passes others.
public struct ChartLabels: Sendable, Equatable {
    /// Legend entry for the norm line, followed by the norm's short source in brackets.
    public var norm: String
    /// The norm in the spoken description: "…; norm 86".
    public var normInText: String
    /// Joins a value to its milestone in the description: "55 ved Oppstart".
    public var at: String
    public var missing: String
    public var noValues: String
    public var notComparable: String
    public var noNormOnFile: String
    public var decimalSeparator: String

    public init(norm: String, normInText: String, at: String, missing: String, noValues: String,
                notComparable: String, noNormOnFile: String, decimalSeparator: String) {
        self.norm = norm
        self.normInText = normInText
        self.at = at
        self.missing = missing
        self.noValues = noValues
        self.notComparable = notComparable
        self.noNormOnFile = noNormOnFile
        self.decimalSeparator = decimalSeparator
    }

    public static let bokmal = ChartLabels(
        norm: "Befolkningsnorm", normInText: "norm", at: "ved", missing: "mangler", noValues: "Ingen verdier.",
        notComparable: "Ingen sammenlignbar norm (publisert norm er skåret på en annen måte)",
        noNormOnFile: "Ingen norm registrert", decimalSeparator: ",")
}

/// Server-rendered SVG charts of one patient's results, for clinicians' pages that run no JavaScript.
///
/// Pure functions returning markup that is safe inline in HTML: every caller text is XML-escaped, nothing
/// external is loaded, ids start with a per-chart prefix, and only presentation attributes are used (the CSP
/// forbids inline styles). Series differ by marker shape and dash pattern as well as colour, and `<desc>`
/// says the numbers in words. The `viewBox` is 400 units wide, so 12-unit text stays legible on a phone;
/// give `svg.svar-chart` a `max-width` in the page's CSS.
public enum ResultChart {
    /// An eight-scale (RAND-36) profile on 0–100: one line per milestone, the norm as a dashed grey line
    /// with bar markers at the scales that have a comparable norm, and a footnote naming the others.
    /// A missing value leaves a gap. `id` overrides the derived id prefix (needed for two identical charts).
    public static func profile(series: [(label: String, values: [String: Double?])], scales: [(id: String, label: String)],
                               norms: ScaleNorms?, title: String, id: String? = nil,
                               labels: ChartLabels = .bokmal) -> String {
        let seed = "profile|\(title)|\(scales.map(\.id))|" + series.map { s in
            "\(s.label)=" + s.values.keys.sorted().map { "\($0):\(String(describing: s.values[$0] ?? nil))" }.joined(separator: ",")
        }.joined(separator: "|")
        var c = Canvas(prefix: idPrefix(id, seed: seed))
        c.paragraph(title, size: 15, bold: true)
        let frame = Frame.fit(top: c.y + 16, height: 200, range: 0...100, xLabels: scales.map(\.label))
        c.axes(frame, ticks: stride(from: 0.0, through: 100, by: 20).map { $0 }, decimals: 0, labels: labels)
        c.y = c.xLabels(scales.map(\.label), frame: frame)

        let norm = norms.map { n in scales.map { n.mean($0.id) } } ?? scales.map { _ in nil }
        if norm.contains(where: { $0 != nil }) {
            var d = ""
            for i in scales.indices.dropLast() {
                if let a = norm[i], let b = norm[i + 1] {
                    d += "M\(f(frame.x(i, of: scales.count))) \(f(frame.y(a)))L\(f(frame.x(i + 1, of: scales.count))) \(f(frame.y(b)))"
                }
            }
            if !d.isEmpty { c.add("<path class=\"norm-line\" d=\"\(d)\" fill=\"none\" stroke=\"\(normColour)\" stroke-width=\"1.5\" stroke-dasharray=\"4 4\"/>") }
            for (i, scale) in scales.enumerated() {
                guard let mean = norm[i] else { continue }
                let tip = "\(scale.label): \(labels.normInText) \(number(mean, 0, labels))"
                c.add("<g class=\"norm-point\" data-scale=\"\(escape(scale.id))\" data-value=\"\(mean)\" transform=\"translate(\(f(frame.x(i, of: scales.count))) \(f(frame.y(mean))))\"><title>\(escape(tip))</title>\(normMarker)</g>")
            }
        }
        let dodge = min(4, frame.width / Double(max(scales.count, 1)) / Double(series.count + 2))
        for (s, one) in series.enumerated() {
            let dx = (Double(s) - Double(series.count - 1) / 2) * dodge
            let values = scales.map { finite(one.values[$0.id] ?? nil) }
            c.line(values.enumerated().map { i, v in v.map { (frame.x(i, of: scales.count) + dx, frame.y($0)) } }, style: s)
            for (i, value) in values.enumerated() {
                guard let value else { continue }
                let tip = "\(scales[i].label), \(one.label): \(number(value, 0, labels))"
                c.marker(at: (frame.x(i, of: scales.count) + dx, frame.y(value)), style: s, tip: tip,
                         data: "data-series=\"\(s)\" data-scale=\"\(escape(scales[i].id))\" data-value=\"\(value)\"")
            }
        }

        c.y += 6
        for (s, one) in series.enumerated() { c.legend(one.label, style: s) }
        if norm.contains(where: { $0 != nil }) {
            c.legend(labels.norm + (norms.map { " (\($0.shortSource))" } ?? ""), style: nil)
        }
        let notes = footnotes(scales: scales, norms: norms, labels: labels)
        c.y += 4
        for note in notes { c.paragraph(note, size: 12, className: "footnote") }
        let words = series.isEmpty ? [labels.noValues] : scales.enumerated().map { i, scale in
            let said = series.map { one in
                finite(one.values[scale.id] ?? nil).map { "\(number($0, 0, labels)) \(labels.at) \(one.label)" }
                    ?? "\(labels.missing) \(labels.at) \(one.label)"
            }.joined(separator: ", ")
            return "\(scale.label) \(said)" + (norm[i].map { "; \(labels.normInText) \(number($0, 0, labels))" } ?? "") + "."
        }
        return c.svg(title: title, desc: ([title + "."] + words + notes).joined(separator: " "))
    }

    /// One sentence per reason, naming the scales drawn without a norm; without norms, every scale.
    static func footnotes(scales: [(id: String, label: String)], norms: ScaleNorms?, labels: ChartLabels) -> [String] {
        [(ScaleNorm.Reason.notComparable, labels.notComparable), (.noNormOnFile, labels.noNormOnFile)].compactMap { reason, text in
            let names = scales.filter { scale in (norms.map { $0.missingReason(scale.id) } ?? .noNormOnFile) == reason }
            return names.isEmpty ? nil : "\(text): \(names.map(\.label).joined(separator: ", "))."
        }
    }

    /// One value over time (EQ-5D index, VAS): points in the given (time) order, equally spaced, labelled with
    /// their dates and values; a line at 0 when the range crosses it. A single point still gets its marker.
    public static func trend(points: [(date: String, value: Double?)], yRange: ClosedRange<Double>, title: String,
                             unit: String, id: String? = nil, decimals: Int? = nil,
                             labels: ChartLabels = .bokmal) -> String {
        let range = yRange.upperBound > yRange.lowerBound ? yRange : (yRange.lowerBound - 1)...(yRange.upperBound + 1)
        let span = range.upperBound - range.lowerBound
        let places = decimals ?? (span <= 2 ? 3 : span <= 20 ? 1 : 0)
        let seed = "trend|\(title)|\(unit)|\(range)|" + points.map { "\($0.date)=\(String(describing: $0.value))" }.joined(separator: "|")
        var c = Canvas(prefix: idPrefix(id, seed: seed))
        c.paragraph(title, size: 15, bold: true)
        if !unit.isEmpty { c.paragraph(unit, size: 12) }
        let (ticks, step) = niceTicks(range)
        let frame = Frame.fit(top: c.y + 14, height: 180, range: range, xLabels: points.map(\.date))
        c.axes(frame, ticks: ticks, decimals: tickDecimals(step), labels: labels)
        c.y = c.xLabels(points.map(\.date), frame: frame)

        let values = points.map { finite($0.value) }
        c.line(values.enumerated().map { i, v in v.map { (frame.x(i, of: points.count), frame.y($0)) } }, style: 0)
        for (i, value) in values.enumerated() {
            guard let value else {
                c.text(labels.missing, x: frame.x(i, of: points.count), y: frame.bottom - 8, anchor: "middle", className: "missing")
                continue
            }
            let at = (frame.x(i, of: points.count), frame.y(value))
            let shown = number(value, places, labels)
            c.marker(at: at, style: 0, tip: "\(points[i].date): \(shown)", data: "data-index=\"\(i)\" data-value=\"\(value)\"")
            // Below a dip, so the lines from both neighbours do not cross the number.
            let neighbours = [i > 0 ? values[i - 1] : nil, i + 1 < values.count ? values[i + 1] : nil].compactMap { $0 }
            let below = !neighbours.isEmpty && neighbours.allSatisfy { $0 > value } && at.1 + 20 < frame.bottom
            c.text(shown, x: at.0, y: below ? at.1 + 19 : at.1 - 9, anchor: "middle", className: "value")
        }
        let suffix = unit.isEmpty ? "" : " \(unit)"
        let words = points.isEmpty ? [labels.noValues] : points.map { point in
            "\(point.date): " + (finite(point.value).map { number($0, places, labels) + suffix } ?? labels.missing) + "."
        }
        return c.svg(title: title, desc: ([title + "."] + words).joined(separator: " "))
    }
}

// MARK: - Drawing

extension ResultChart {
    static let viewWidth = 400.0, margin = 14.0
    static let ink = "#1a1a1a", quiet = "#333333", axis = "#595959", grid = "#949494", normColour = "#595959"
    /// Dark enough for ≥ 4.5:1 on white; shapes and dashes carry the same distinction without colour.
    static let colours = ["#0b4f8a", "#a34400", "#1d6b36", "#6c2d8c", "#00636b", "#8b1a3a"]
    static let dashes = ["", "9 4", "2 3", "9 3 2 3", "5 2 1 2 1 2", "14 4"]
    static let normMarker = "<line x1=\"-10\" y1=\"0\" x2=\"10\" y2=\"0\" stroke=\"\(normColour)\" stroke-width=\"3\"/>"

    static func markerShape(_ style: Int) -> String {
        let paint = "fill=\"\(colours[style % colours.count])\" stroke=\"#ffffff\" stroke-width=\"1\""
        switch style % 6 {
        case 0: return "<circle r=\"4.5\" \(paint)/>"
        case 1: return "<rect x=\"-4.5\" y=\"-4.5\" width=\"9\" height=\"9\" \(paint)/>"
        case 2: return "<path d=\"M0 -6L5.5 4L-5.5 4Z\" \(paint)/>"
        case 3: return "<path d=\"M0 -6L6 0L0 6L-6 0Z\" \(paint)/>"
        case 4: return "<path d=\"M0 6L5.5 -4L-5.5 -4Z\" \(paint)/>"
        default: return "<path d=\"M-4.5 -4.5L4.5 4.5M-4.5 4.5L4.5 -4.5\" fill=\"none\" stroke=\"\(colours[style % colours.count])\" stroke-width=\"2.5\"/>"
        }
    }

    /// The plot area and its value-to-position mapping; values outside the range are drawn at its edge.
    struct Frame {
        let left: Double, top: Double, width: Double, height: Double, range: ClosedRange<Double>
        var bottom: Double { top + height }
        /// Whether the x labels are turned 45° because they do not fit side by side.
        let rotated: Bool

        func y(_ value: Double) -> Double {
            let clamped = min(max(value, range.lowerBound), range.upperBound)
            return top + height * (range.upperBound - clamped) / (range.upperBound - range.lowerBound)
        }

        func x(_ index: Int, of count: Int) -> Double { left + width * (Double(index) + 0.5) / Double(max(count, 1)) }

        /// Leaves room on the left for tick labels and for turned x labels that would run off the edge.
        static func fit(top: Double, height: Double, range: ClosedRange<Double>, xLabels: [String]) -> Frame {
            let right = viewWidth - margin, n = Double(max(xLabels.count, 1))
            var left = 44.0
            let widths = xLabels.map { textWidth($0, 12) }
            let rotated = widths.contains { $0 > (right - left) / n - 6 }
            if rotated {
                for (i, w) in widths.enumerated() {
                    let share = (Double(i) + 0.5) / n
                    left = max(left, (w * 0.7071 + 6 - share * right) / (1 - share))
                }
                left = min(left, viewWidth / 2)
            }
            return Frame(left: left, top: top, width: right - left, height: height, range: range, rotated: rotated)
        }
    }

    /// The growing list of elements, top to bottom; `y` is where the next block starts.
    struct Canvas {
        let prefix: String
        var parts: [String] = []
        var y = 6.0

        mutating func add(_ element: String) { parts.append(element) }

        mutating func text(_ s: String, x: Double, y: Double, size: Double = 12, anchor: String = "start",
                           bold: Bool = false, className: String? = nil, transform: String? = nil) {
            add("<text" + (className.map { " class=\"\($0)\"" } ?? "") + " x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"\(f(size))\""
                + (bold ? " font-weight=\"bold\"" : "") + (anchor == "start" ? "" : " text-anchor=\"\(anchor)\"")
                + (transform.map { " transform=\"\($0)\"" } ?? "") + " fill=\"\(ink)\">\(escape(s))</text>")
        }

        /// Wrapped text across the full width, one `<text>` per line.
        mutating func paragraph(_ s: String, size: Double, bold: Bool = false, className: String? = nil) {
            for line in wrap(s, size: size, width: viewWidth - 2 * margin) {
                y += size * 1.3
                text(line, x: margin, y: y, size: size, bold: bold, className: className)
            }
        }

        mutating func axes(_ frame: Frame, ticks: [Double], decimals: Int, labels: ChartLabels) {
            add("<rect class=\"plot-area\" x=\"\(f(frame.left))\" y=\"\(f(frame.top))\" width=\"\(f(frame.width))\" height=\"\(f(frame.height))\" fill=\"none\"/>")
            for tick in ticks {
                let y = frame.y(tick)
                add("<line x1=\"\(f(frame.left))\" y1=\"\(f(y))\" x2=\"\(f(frame.left + frame.width))\" y2=\"\(f(y))\" stroke=\"\(grid)\" stroke-width=\"0.75\"/>")
                text(number(tick, decimals, labels), x: frame.left - 6, y: y + 4, anchor: "end", className: "tick")
            }
            if frame.range.lowerBound < 0, frame.range.upperBound > 0 {
                add("<line class=\"zero-line\" x1=\"\(f(frame.left))\" y1=\"\(f(frame.y(0)))\" x2=\"\(f(frame.left + frame.width))\" y2=\"\(f(frame.y(0)))\" stroke=\"\(ink)\" stroke-width=\"1.5\"/>")
            }
            add("<path d=\"M\(f(frame.left)) \(f(frame.top))V\(f(frame.bottom))H\(f(frame.left + frame.width))\" fill=\"none\" stroke=\"\(axis)\" stroke-width=\"1\"/>")
        }

        /// Labels under the columns, turned 45° when they do not fit side by side; returns the y below them.
        mutating func xLabels(_ texts: [String], frame: Frame) -> Double {
            for (i, label) in texts.enumerated() {
                let x = frame.x(i, of: texts.count)
                if frame.rotated {
                    let y = frame.bottom + 14
                    text(label, x: x + 3, y: y, anchor: "end", className: "x-label", transform: "rotate(-45 \(f(x + 3)) \(f(y)))")
                } else {
                    text(label, x: x, y: frame.bottom + 17, anchor: "middle", className: "x-label")
                }
            }
            let longest = texts.map { textWidth($0, 12) }.max() ?? 0
            return frame.bottom + (frame.rotated ? longest * 0.7071 + 24 : 24)
        }

        /// One series' line; a nil point breaks it, so a missing value is a gap and never a zero.
        mutating func line(_ points: [(Double, Double)?], style: Int) {
            var d = "", previous = false
            for (i, point) in points.enumerated() {
                guard let point else { previous = false; continue }
                let next = i + 1 < points.count && points[i + 1] != nil
                if previous { d += "L\(f(point.0)) \(f(point.1))" } else if next { d += "M\(f(point.0)) \(f(point.1))" }
                previous = true
            }
            guard !d.isEmpty else { return }
            let dash = dashes[style % dashes.count]
            add("<path class=\"series-line\" d=\"\(d)\" fill=\"none\" stroke=\"\(colours[style % colours.count])\" stroke-width=\"2\""
                + (dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\"") + "/>")
        }

        mutating func marker(at point: (Double, Double), style: Int, tip: String, data: String) {
            add("<g class=\"point\" \(data) transform=\"translate(\(f(point.0)) \(f(point.1)))\"><title>\(escape(tip))</title>\(markerShape(style))</g>")
        }

        /// A legend row: a sample of the line and marker (or the norm's), then the wrapped label.
        mutating func legend(_ label: String, style: Int?) {
            let lines = wrap(label, size: 12, width: viewWidth - 2 * margin - 40)
            let mid = y + 12
            if let style {
                line([(margin, mid), (margin + 30, mid)], style: style)
                add("<g transform=\"translate(\(f(margin + 15)) \(f(mid)))\">\(markerShape(style))</g>")
            } else {
                add("<path d=\"M\(f(margin)) \(f(mid))H\(f(margin + 30))\" fill=\"none\" stroke=\"\(normColour)\" stroke-width=\"1.5\" stroke-dasharray=\"4 4\"/>")
                add("<g transform=\"translate(\(f(margin + 15)) \(f(mid)))\">\(normMarker)</g>")
            }
            for (i, line) in lines.enumerated() {
                text(line, x: margin + 40, y: mid + 4 + Double(i) * 16, className: "legend")
            }
            y += 8 + Double(max(lines.count, 1)) * 16
        }

        func svg(title: String, desc: String) -> String {
            let height = (y + 10).rounded(.up)
            return "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"svar-chart\" id=\"\(prefix)\" viewBox=\"0 0 \(f(viewWidth)) \(f(height))\""
                + " role=\"img\" aria-labelledby=\"\(prefix)-title\" aria-describedby=\"\(prefix)-desc\" font-family=\"Arial, Helvetica, sans-serif\">"
                + "<title id=\"\(prefix)-title\">\(escape(title))</title><desc id=\"\(prefix)-desc\">\(escape(desc))</desc>"
                + "<rect width=\"\(f(viewWidth))\" height=\"\(f(height))\" fill=\"#ffffff\"/>" + parts.joined() + "</svg>"
        }
    }
}

// MARK: - Text and numbers

extension ResultChart {
    /// XML-escapes caller text; control characters (not allowed in XML 1.0) become spaces.
    static func escape(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF: out += " "
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A coordinate, to 0.1 unit.
    static func f(_ v: Double) -> String {
        let s = String(format: "%.1f", v)
        return s.hasSuffix(".0") ? String(s.dropLast(2)) : s
    }

    /// A value as a reader sees it: fixed decimals, the language's decimal separator, never "-0".
    static func number(_ v: Double, _ decimals: Int, _ labels: ChartLabels) -> String {
        // Half away from zero, like every other rounded score Svar shows (printf alone rounds 62.5 to 62).
        let scale = pow(10, Double(max(decimals, 0)))
        var s = String(format: "%.\(max(decimals, 0))f", (v * scale).rounded(.toNearestOrAwayFromZero) / scale)
        if s.hasPrefix("-"), s.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) { s.removeFirst() }
        return s.replacingOccurrences(of: ".", with: labels.decimalSeparator)
    }

    static func finite(_ v: Double?) -> Double? { v.flatMap { $0.isFinite ? $0 : nil } }

    /// The caller's id (reduced to id-safe characters), or one derived from the chart's content, so two
    /// different charts on a page never share ids and the same chart renders the same markup.
    static func idPrefix(_ given: String?, seed: String) -> String {
        let cleaned = String(String.UnicodeScalarView((given ?? "").unicodeScalars.filter {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_")
        }))
        if !cleaned.isEmpty { return cleaned.first?.isLetter == true ? cleaned : "c" + cleaned }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in seed.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return "svar-chart-" + String(hash, radix: 16)
    }

    /// A slightly generous estimate of Arial's advance widths, so text is given room rather than clipped.
    static func textWidth(_ s: String, _ size: Double) -> Double {
        s.reduce(0.0) { sum, character in
            let em: Double = switch character {
            case " ", ".", ",", ":", ";", "'", "i", "j", "l", "I", "|", "!", "(", ")", "/", "-", "f", "t", "r": 0.33
            case "m", "w", "M", "W", "æ", "Æ", "%", "–", "—": 0.86
            case _ where character.isUppercase: 0.7
            default: 0.57
            }
            return sum + em
        } * size
    }

    /// Words packed into lines of at most `width`; a word longer than a line gets a line of its own.
    static func wrap(_ s: String, size: Double, width: Double) -> [String] {
        var lines: [String] = [], current = ""
        for word in s.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let candidate = current.isEmpty ? String(word) : current + " " + word
            if textWidth(candidate, size) <= width || current.isEmpty {
                current = candidate
            } else {
                lines.append(current)
                current = String(word)
            }
        }
        return current.isEmpty ? lines : lines + [current]
    }

    /// Round-numbered ticks, about seven intervals, preferring a step that lands on the range's bottom
    /// (so -0.6…1 gets 0.2 and 0…100 gets 20).
    static func niceTicks(_ range: ClosedRange<Double>) -> (ticks: [Double], step: Double) {
        let span = range.upperBound - range.lowerBound
        let magnitude = pow(10, (log10(span)).rounded(.down))
        var best = (step: span, score: Double.infinity)
        for exponent in [magnitude / 100, magnitude / 10, magnitude, magnitude * 10] {
            for multiple in [1.0, 2, 2.5, 5] {
                let step = exponent * multiple, intervals = span / step
                guard intervals >= 2, intervals <= 10 else { continue }
                let ratio = range.lowerBound / step
                let score = abs(intervals - 7) + (abs(ratio - ratio.rounded()) < 1e-9 ? 0 : 2)
                if score < best.score { best = (step, score) }
            }
        }
        let first = Int((range.lowerBound / best.step - 1e-9).rounded(.up))
        let last = Int((range.upperBound / best.step + 1e-9).rounded(.down))
        return (first <= last ? (first...last).map { Double($0) * best.step } : [range.lowerBound, range.upperBound], best.step)
    }

    /// Enough decimals to tell ticks apart: 20 → 0, 0.2 → 1, 0.25 → 2.
    static func tickDecimals(_ step: Double) -> Int {
        (0...4).first { d in
            let scaled = step * pow(10, Double(d))
            return abs(scaled - scaled.rounded()) < 1e-9
        } ?? 4
    }
}
