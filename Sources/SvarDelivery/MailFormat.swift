import Foundation

/// Writes an RFC 5322 message with a MIME multipart/alternative body (plain text + HTML), UTF-8 in
/// quoted-printable so the `.eml` stays readable and the link stays clickable in any mail client.
public enum MailFormat {
    public static func render(_ message: OutgoingMessage, from: String, date: Date) -> String {
        var headers = [
            "From: \(mailbox(message.senderName, from))",
            "To: \(message.recipient)",
            "Subject: \(encodedWord(message.subject))",
            "Date: \(rfc5322Date(date))",
            "Message-ID: \(message.messageId)",
            "MIME-Version: 1.0",
            "Auto-Submitted: auto-generated",
        ]
        var body: [String] = []
        if let html = message.html {
            let boundary =
                "=_svar_" + String(message.messageId.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) }.map(Character.init))
            headers.append("Content-Type: multipart/alternative; boundary=\"\(boundary)\"")
            body = [
                "--\(boundary)", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: quoted-printable", "",
                quotedPrintable(message.text),
                "--\(boundary)", "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: quoted-printable", "",
                quotedPrintable(html),
                "--\(boundary)--",
            ]
        } else {
            headers += ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: quoted-printable"]
            body = [quotedPrintable(message.text)]
        }
        return (headers + [""] + body).joined(separator: "\r\n") + "\r\n"
    }

    /// `Sun, 22 Nov 2026 09:30:00 +0000` (RFC 5322 §3.3), always in UTC and English names.
    /// Written from calendar fields, not a DateFormatter: this runs once per message on the sending path.
    public static func rfc5322Date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        let c = calendar.dateComponents([.weekday, .day, .month, .year, .hour, .minute, .second], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return String(
            format: "%@, %02d %@ %04d %02d:%02d:%02d +0000", days[((c.weekday ?? 1) - 1) % 7], c.day ?? 1,
            months[((c.month ?? 1) - 1) % 12], c.year ?? 1970, c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    /// `Name <address>` (RFC 5322 §3.4): the name as it is when it is plain words, quoted when it holds
    /// specials, an encoded word when it is not ASCII ("Spørreskjema"); the bare address without a name.
    static func mailbox(_ name: String?, _ address: String) -> String {
        guard let name, !name.isEmpty else { return address }
        let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~ ")
        if name.allSatisfy(atext.contains) { return "\(name) <\(address)>" }
        if name.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            let quoted = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\"\(quoted)\" <\(address)>"
        }
        return "\(encodedWord(name)) <\(address)>"
    }

    /// RFC 2047 encoded word for a header with non-ASCII text (base64, UTF-8).
    static func encodedWord(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 >= 0x80 || $0 < 0x20 }) else { return text }
        return "=?utf-8?B?\(Data(text.utf8).base64EncodedString())?="
    }

    /// RFC 2045 quoted-printable with CRLF line ends and soft breaks before 76 characters.
    static func quotedPrintable(_ text: String) -> String {
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        return lines.map { line -> String in
            var out = ""
            var width = 0
            let bytes = Array(line.utf8)
            for (index, byte) in bytes.enumerated() {
                let isLast = index == bytes.count - 1
                let literal = (byte >= 33 && byte <= 126 && byte != 61) || ((byte == 32 || byte == 9) && !isLast)
                let piece = literal ? String(UnicodeScalar(byte)) : String(format: "=%02X", byte)
                if width + piece.count > 75 {
                    out += "=\r\n"
                    width = 0
                }
                out += piece
                width += piece.count
            }
            return out
        }.joined(separator: "\r\n")
    }
}
