import Foundation
import SvarInstruments

/// Escaping, number formatting, ids and text measurement for the charts.
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
        let cleaned = String(
            String.UnicodeScalarView(
                (given ?? "").unicodeScalars.filter {
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
            let em: Double =
                switch character {
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
        var lines: [String] = []
        var current = ""
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
                let step = exponent * multiple
                let intervals = span / step
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
