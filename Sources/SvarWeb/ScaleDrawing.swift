import Foundation

/// A number question with words at both ends (the EQ VAS: "the best / the worst health you can imagine")
/// drawn as the paper instrument draws it: a vertical ruler, the maximum at the top, a tick per unit, a longer
/// tick and a number every ten (every unit on a short scale), and a marker at the value chosen. Drawn here as
/// SVG numbers for the step template, so the page needs no script; the ruler is a picture of what the text
/// beside it says (the end labels and the chosen value are text on the page), so it is hidden from screen
/// readers.
struct ScaleDrawing {
    /// The drawing's coordinate space (the page's stylesheet sets its size on screen).
    static let width = 140
    static let top = 12
    static let length = 400
    /// Where the ruler's line runs; ticks go right of it, numbers left.
    static let lineX = 46

    let min: Int
    let max: Int

    /// Nil for a range that cannot be drawn (empty or inverted).
    init?(min: Int, max: Int) {
        guard max > min else { return nil }
        self.min = min
        self.max = max
    }

    var height: Int { Self.top * 2 + Self.length }

    /// The y coordinate of `value` (the maximum at the top).
    func y(_ value: Int) -> String {
        Self.format(Double(Self.top) + Double(max - value) * Double(Self.length) / Double(max - min))
    }

    /// A number every ten on a long scale, every unit on a scale of twenty units or fewer.
    var labelStep: Int { max - min > 20 ? 10 : 1 }

    /// One SVG path of every tick: a unit tick, a longer one every five, the longest at each number.
    var ticks: String {
        (min...max).map { value -> String in
            let length = value % labelStep == 0 ? 24 : value % 5 == 0 ? 16 : 9
            return "M\(Self.lineX) \(y(value))h\(length)"
        }.joined()
    }

    /// The drawing's values for the step template; `chosen` is the answer shown, if it is a number in range.
    func context(chosen: Int?) -> [String: Any] {
        var context: [String: Any] = [
            "width": Self.width, "height": height, "lineX": Self.lineX, "numberX": Self.lineX - 8,
            "line": "M\(Self.lineX) \(y(max))V\(y(min))", "ticks": ticks,
            "numbers": stride(from: min, through: max, by: 1).filter { $0 % labelStep == 0 }.map { value -> [String: Any] in
                ["y": y(value), "text": String(value)]
            },
        ]
        if let chosen, (min...max).contains(chosen) {
            // A bar across the ticks and an arrowhead pointing at it from the right, with the number beside it.
            let at = y(chosen)
            context["marker"] = [
                "bar": "M\(Self.lineX - 6) \(at)h40", "arrow": "M\(Self.lineX + 36) \(at)l14 -9v18z",
                "textX": Self.lineX + 54, "y": at, "value": String(chosen),
            ]
        }
        return context
    }

    static func format(_ number: Double) -> String {
        number == number.rounded() ? String(Int(number)) : String(format: "%.2f", number)
    }
}
