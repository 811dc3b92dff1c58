import Foundation
import SvarInstruments

/// How the charts are drawn: the plot frame, the SVG canvas, colours, dashes and markers.
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
        default:
            return
                "<path d=\"M-4.5 -4.5L4.5 4.5M-4.5 4.5L4.5 -4.5\" fill=\"none\" stroke=\"\(colours[style % colours.count])\" "
                + "stroke-width=\"2.5\"/>"
        }
    }

    /// The plot area and its value-to-position mapping; values outside the range are drawn at its edge.
    struct Frame {
        let left: Double, top: Double, width: Double, height: Double, range: ClosedRange<Double>
        var bottom: Double { top + height }
        /// Whether the x labels are turned 45° because they do not fit side by side.
        let rotated: Bool
        /// Where each column sits, 0…1 across the plot (time-proportional); nil spaces them evenly.
        var positions: [Double]? = nil

        func y(_ value: Double) -> Double {
            let clamped = min(max(value, range.lowerBound), range.upperBound)
            return top + height * (range.upperBound - clamped) / (range.upperBound - range.lowerBound)
        }

        func x(_ index: Int, of count: Int) -> Double {
            if let positions, positions.indices.contains(index) { return left + width * (0.06 + 0.88 * positions[index]) }
            return left + width * (Double(index) + 0.5) / Double(max(count, 1))
        }

        /// Leaves room on the left for tick labels and for turned x labels that would run off the edge.
        static func fit(
            top: Double, height: Double, range: ClosedRange<Double>, xLabels: [String], positions: [Double]? = nil
        ) -> Frame {
            let right = viewWidth - margin
            let n = Double(max(xLabels.count, 1))
            var left = 44.0
            let widths = xLabels.map { textWidth($0, 12) }
            // Each label's share of the width, and the room it has before its nearer neighbour.
            let shares = xLabels.indices.map { i in positions.map { 0.06 + 0.88 * $0[i] } ?? (Double(i) + 0.5) / n }
            let room = shares.indices.map { i in
                let gaps = [i > 0 ? shares[i] - shares[i - 1] : nil, i + 1 < shares.count ? shares[i + 1] - shares[i] : nil]
                return gaps.compactMap { $0 }.min() ?? 1
            }
            let rotated = widths.indices.contains { widths[$0] > (right - left) * room[$0] - 6 }
            if rotated {
                for (i, w) in widths.enumerated() {
                    left = max(left, (w * 0.7071 + 6 - shares[i] * right) / (1 - shares[i]))
                }
                left = min(left, viewWidth / 2)
            }
            return Frame(
                left: left, top: top, width: right - left, height: height, range: range, rotated: rotated, positions: positions)
        }
    }

    /// The growing list of elements, top to bottom; `y` is where the next block starts.
    struct Canvas {
        let prefix: String
        var parts: [String] = []
        var y = 6.0

        mutating func add(_ element: String) { parts.append(element) }

        mutating func text(
            _ s: String, x: Double, y: Double, size: Double = 12, anchor: String = "start",
            bold: Bool = false, className: String? = nil, transform: String? = nil
        ) {
            add(
                "<text" + (className.map { " class=\"\($0)\"" } ?? "") + " x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"\(f(size))\""
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
            add(
                "<rect class=\"plot-area\" x=\"\(f(frame.left))\" y=\"\(f(frame.top))\" width=\"\(f(frame.width))\" "
                    + "height=\"\(f(frame.height))\" fill=\"none\"/>"
            )
            for tick in ticks {
                let y = frame.y(tick)
                add(
                    "<line x1=\"\(f(frame.left))\" y1=\"\(f(y))\" x2=\"\(f(frame.left + frame.width))\" y2=\"\(f(y))\" "
                        + "stroke=\"\(grid)\" stroke-width=\"0.75\"/>"
                )
                text(number(tick, decimals, labels), x: frame.left - 6, y: y + 4, anchor: "end", className: "tick")
            }
            if frame.range.lowerBound < 0, frame.range.upperBound > 0 {
                add(
                    "<line class=\"zero-line\" x1=\"\(f(frame.left))\" y1=\"\(f(frame.y(0)))\" "
                        + "x2=\"\(f(frame.left + frame.width))\" y2=\"\(f(frame.y(0)))\" stroke=\"\(ink)\" stroke-width=\"1.5\"/>"
                )
            }
            add(
                "<path d=\"M\(f(frame.left)) \(f(frame.top))V\(f(frame.bottom))H\(f(frame.left + frame.width))\" fill=\"none\" "
                    + "stroke=\"\(axis)\" stroke-width=\"1\"/>"
            )
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
            var d = ""
            var previous = false
            for (i, point) in points.enumerated() {
                guard let point else {
                    previous = false
                    continue
                }
                let next = i + 1 < points.count && points[i + 1] != nil
                if previous { d += "L\(f(point.0)) \(f(point.1))" } else if next { d += "M\(f(point.0)) \(f(point.1))" }
                previous = true
            }
            guard !d.isEmpty else { return }
            let dash = dashes[style % dashes.count]
            add(
                "<path class=\"series-line\" d=\"\(d)\" fill=\"none\" stroke=\"\(colours[style % colours.count])\" stroke-width=\"2\""
                    + (dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\"") + "/>")
        }

        mutating func marker(at point: (Double, Double), style: Int, tip: String, data: String) {
            add(
                "<g class=\"point\" \(data) transform=\"translate(\(f(point.0)) "
                    + "\(f(point.1)))\"><title>\(escape(tip))</title>\(markerShape(style))</g>"
            )
        }

        /// A legend row: a sample of the line and marker (or the norm's), then the wrapped label.
        mutating func legend(_ label: String, style: Int?) {
            let lines = wrap(label, size: 12, width: viewWidth - 2 * margin - 40)
            let mid = y + 12
            if let style {
                line([(margin, mid), (margin + 30, mid)], style: style)
                add("<g transform=\"translate(\(f(margin + 15)) \(f(mid)))\">\(markerShape(style))</g>")
            } else {
                add(
                    "<path d=\"M\(f(margin)) \(f(mid))H\(f(margin + 30))\" fill=\"none\" stroke=\"\(normColour)\" "
                        + "stroke-width=\"1.5\" stroke-dasharray=\"4 4\"/>"
                )
                add("<g transform=\"translate(\(f(margin + 15)) \(f(mid)))\">\(normMarker)</g>")
            }
            for (i, line) in lines.enumerated() {
                text(line, x: margin + 40, y: mid + 4 + Double(i) * 16, className: "legend")
            }
            y += 8 + Double(max(lines.count, 1)) * 16
        }

        func svg(title: String, desc: String) -> String {
            let height = (y + 10).rounded(.up)
            return
                "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"svar-chart\" id=\"\(prefix)\" viewBox=\"0 0 \(f(viewWidth)) "
                + "\(f(height))\""
                + " role=\"img\" aria-labelledby=\"\(prefix)-title\" aria-describedby=\"\(prefix)-desc\" font-family=\"Arial, "
                + "Helvetica, sans-serif\">"
                + "<title id=\"\(prefix)-title\">\(escape(title))</title><desc id=\"\(prefix)-desc\">\(escape(desc))</desc>"
                + "<rect width=\"\(f(viewWidth))\" height=\"\(f(height))\" fill=\"#ffffff\"/>" + parts.joined() + "</svg>"
        }
    }
}
