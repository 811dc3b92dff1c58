import Foundation
import Hummingbird

/// A page rendered once by its Mustache template with markers where the per-request values go, split into
/// literal bytes and slots. Profiling the questionnaire page showed Mustache (dynamic casts and dictionary
/// look-ups on `[String: Any]`, HTML escaping a character at a time) as half of its CPU; a skeleton keeps the
/// template the one source of the HTML and fills a step page in a few microseconds.
struct PageSkeleton<Name: Sendable>: Sendable {
    /// Slots take text escaped as Mustache's `{{…}}` escapes it (the templates use no `{{{…}}}`).
    let literals: [[UInt8]]
    let slots: [Name]

    /// A marker is a random number and a slot index between two private-use characters, which Mustache's escaping
    /// leaves alone; a rendering with anything else between them (a text pack using those characters) gives no
    /// skeleton, and the page is rendered by the template every time.
    static var open: Character { "\u{E000}" }
    static var close: Character { "\u{E001}" }

    /// Splits `rendered` at the markers `issued` handed out. Nil when the markers are not all well formed.
    init?(rendered: String, issued: Markers) {
        var literals: [[UInt8]] = []
        var slots: [Name] = []
        var current = Substring(rendered)
        while let start = current.firstIndex(of: Self.open) {
            guard let end = current[start...].firstIndex(of: Self.close),
                let slot = issued.slot(marked: current[current.index(after: start)..<end]), !current[..<start].contains(Self.close)
            else { return nil }
            literals.append(Array(current[..<start].utf8))
            slots.append(slot)
            current = current[current.index(after: end)...]
        }
        guard !current.contains(Self.close) else { return nil }
        literals.append(Array(current.utf8))
        self.literals = literals
        self.slots = slots
    }

    /// The page with each slot's value from `value`, escaped.
    func fill(_ value: (Name) -> String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(literals.reduce(0) { $0 + $1.count } + slots.count * 48)
        for (index, slot) in slots.enumerated() {
            buffer.writeBytes(literals[index])
            Self.writeEscaped(value(slot), to: &buffer)
        }
        buffer.writeBytes(literals[literals.count - 1])
        return buffer
    }

    /// The five characters swift-mustache escapes, with the same entities.
    static func writeEscaped(_ text: String, to buffer: inout ByteBuffer) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "<"): buffer.writeStaticString("&lt;")
            case UInt8(ascii: ">"): buffer.writeStaticString("&gt;")
            case UInt8(ascii: "&"): buffer.writeStaticString("&amp;")
            case UInt8(ascii: "\""): buffer.writeStaticString("&quot;")
            case UInt8(ascii: "'"): buffer.writeStaticString("&#39;")
            default: buffer.writeInteger(byte)
            }
        }
    }

    /// Hands out markers while a page's context is built, remembering which slot each stands for.
    final class Markers {
        private var issued: [Name] = []
        private let nonce = String(UInt64.random(in: 1...UInt64.max), radix: 36)

        func marker(_ slot: Name) -> String {
            issued.append(slot)
            return "\(PageSkeleton.open)\(nonce)-\(issued.count - 1)\(PageSkeleton.close)"
        }

        /// The slot a marker's text (between the private-use characters) stands for.
        func slot(marked text: Substring) -> Name? {
            guard text.hasPrefix("\(nonce)-"), let index = Int(text.dropFirst(nonce.count + 1)), issued.indices.contains(index) else {
                return nil
            }
            return issued[index]
        }
    }
}
