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

    public init(
        norm: String, normInText: String, at: String, missing: String, noValues: String,
        notComparable: String, noNormOnFile: String, decimalSeparator: String
    ) {
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
    public static func profile(
        series: [(label: String, values: [String: Double?])], scales: [(id: String, label: String)],
        norms: ScaleNorms?, title: String, id: String? = nil,
        labels: ChartLabels = .bokmal
    ) -> String {
        let seed =
            "profile|\(title)|\(scales.map(\.id))|"
            + series.map { s in
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
            if !d.isEmpty {
                c.add(
                    "<path class=\"norm-line\" d=\"\(d)\" fill=\"none\" stroke=\"\(normColour)\" stroke-width=\"1.5\" "
                        + "stroke-dasharray=\"4 4\"/>"
                )
            }
            for (i, scale) in scales.enumerated() {
                guard let mean = norm[i] else { continue }
                let tip = "\(scale.label): \(labels.normInText) \(number(mean, 0, labels))"
                c.add(
                    "<g class=\"norm-point\" data-scale=\"\(escape(scale.id))\" data-value=\"\(mean)\" "
                        + "transform=\"translate(\(f(frame.x(i, of: scales.count))) "
                        + "\(f(frame.y(mean))))\"><title>\(escape(tip))</title>\(normMarker)</g>"
                )
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
                c.marker(
                    at: (frame.x(i, of: scales.count) + dx, frame.y(value)), style: s, tip: tip,
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
        let words =
            series.isEmpty
            ? [labels.noValues]
            : scales.enumerated().map { i, scale in
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

    /// One value over time (EQ-5D index, VAS): points in the given (time) order, labelled with their
    /// milestones and dates and their values; a line at 0 when the range crosses it. With `times` the points sit
    /// where they fall in time (a year's gap looks like one); without, equally spaced. A single point still
    /// gets its marker.
    public static func trend(
        points: [(date: String, value: Double?)], yRange: ClosedRange<Double>, title: String,
        unit: String, id: String? = nil, decimals: Int? = nil, times: [Date]? = nil,
        labels: ChartLabels = .bokmal
    ) -> String {
        let range = yRange.upperBound > yRange.lowerBound ? yRange : (yRange.lowerBound - 1)...(yRange.upperBound + 1)
        let span = range.upperBound - range.lowerBound
        let places = decimals ?? (span <= 2 ? 3 : span <= 20 ? 1 : 0)
        let seed = "trend|\(title)|\(unit)|\(range)|" + points.map { "\($0.date)=\(String(describing: $0.value))" }.joined(separator: "|")
        var c = Canvas(prefix: idPrefix(id, seed: seed))
        c.paragraph(title, size: 15, bold: true)
        if !unit.isEmpty { c.paragraph(unit, size: 12) }
        let (ticks, step) = niceTicks(range)
        let frame = Frame.fit(
            top: c.y + 14, height: 180, range: range, xLabels: points.map(\.date), positions: times.flatMap(timeShares))
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
        let words =
            points.isEmpty
            ? [labels.noValues]
            : points.map { point in
                "\(point.date): " + (finite(point.value).map { number($0, places, labels) + suffix } ?? labels.missing) + "."
            }
        return c.svg(title: title, desc: ([title + "."] + words).joined(separator: " "))
    }

    /// Each time's share of the span from the first to the last (all in the middle when they coincide).
    static func timeShares(_ times: [Date]) -> [Double]? {
        guard let first = times.min(), let last = times.max() else { return nil }
        let span = last.timeIntervalSince(first)
        return times.map { span > 0 ? $0.timeIntervalSince(first) / span : 0.5 }
    }
}
