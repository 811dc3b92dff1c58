import Foundation

/// A calendar date without time or zone ("2026-01-05"), as clinicians record pathway events.
///
/// Pathway deadlines are calendar rules ("12 months after the end"), so they are computed on dates, and only
/// turned into instants in Europe/Oslo at the edge (see `OsloTime`).
public struct LocalDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1, day <= LocalDate.daysIn(month: month, year: year) else {
            return nil
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD` exactly.
    public init?(iso text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2])
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public var description: String {
        String(format: "%04d-%02d-%02d", year, month, day)
    }

    public static func < (a: LocalDate, b: LocalDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    public static func isLeap(_ year: Int) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Adds calendar months, keeping the day where it exists and otherwise using the month's last day
    /// (2028-02-29 + 12 months = 2029-02-28; 2026-01-31 + 1 month = 2026-02-28).
    public func adding(months: Int) -> LocalDate {
        let index = year * 12 + (month - 1) + months
        let y = index / 12
        let m = index % 12 + 1
        let d = min(day, LocalDate.daysIn(month: m, year: y))
        return LocalDate(year: y, month: m, day: d) ?? self
    }

    public func adding(days: Int) -> LocalDate {
        LocalDate(dayNumber: dayNumber + days)
    }

    /// Days since 1970-01-01 (proleptic Gregorian), for date arithmetic.
    public var dayNumber: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public init(dayNumber: Int) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (m <= 2 ? 1 : 0)
        month = m
        day = d
    }

    public func days(until other: LocalDate) -> Int { other.dayNumber - dayNumber }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = LocalDate(iso: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not a date YYYY-MM-DD"))
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// Europe/Oslo wall-clock time: the zone every Norwegian pathway date and invitation time is meant in.
public enum OsloTime {
    public static let zone: TimeZone = TimeZone(identifier: "Europe/Oslo") ?? TimeZone(secondsFromGMT: 3600) ?? .current

    static var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar
    }

    /// The instant of `date` at `hour:minute` Oslo time. A wall time that does not exist (the spring-forward
    /// gap) moves forward to the next valid time.
    public static func instant(_ date: LocalDate, hour: Int = 0, minute: Int = 0) -> Date {
        let components = DateComponents(year: date.year, month: date.month, day: date.day, hour: hour, minute: minute)
        return calendar.date(from: components) ?? Date(timeIntervalSince1970: TimeInterval(date.dayNumber * 86_400))
    }

    /// The Oslo calendar date of an instant.
    public static func date(of instant: Date) -> LocalDate {
        let c = calendar.dateComponents([.year, .month, .day], from: instant)
        return LocalDate(year: c.year ?? 1970, month: c.month ?? 1, day: c.day ?? 1) ?? LocalDate(dayNumber: 0)
    }
}

extension OsloTime {
    /// ISO 8601 with the Oslo offset, e.g. `2026-01-05T09:00:00+01:00`: what API callers and clinicians read.
    public static func iso8601(_ instant: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = zone
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: instant)
    }

    /// Parses `2027-05-01T09:00`, with optional seconds and offset; without an offset the time is Oslo time.
    public static func parse(_ text: String) -> Date? {
        let pattern = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:?\d{2})?$/
        guard let m = try? pattern.wholeMatch(in: text),
            let date = LocalDate(year: Int(m.1) ?? 0, month: Int(m.2) ?? 0, day: Int(m.3) ?? 0),
            let hour = Int(m.4), let minute = Int(m.5), (0...23).contains(hour), (0...59).contains(minute)
        else { return nil }
        let second = m.6.flatMap { Int($0) } ?? 0
        guard (0...59).contains(second) else { return nil }
        guard let offset = m.7 else {
            var c = DateComponents(year: date.year, month: date.month, day: date.day, hour: hour, minute: minute, second: second)
            c.timeZone = zone
            return calendar.date(from: c)
        }
        var seconds = 0
        if offset != "Z" {
            let digits = offset.dropFirst().filter(\.isNumber)
            let h = Int(digits.prefix(2)) ?? 0
            let mm = Int(digits.suffix(2)) ?? 0
            guard h <= 14, mm < 60 else { return nil }
            seconds = (h * 3600 + mm * 60) * (offset.hasPrefix("-") ? -1 : 1)
        }
        let utcSeconds = date.dayNumber * 86_400 + hour * 3600 + minute * 60 + second - seconds
        return Date(timeIntervalSince1970: TimeInterval(utcSeconds))
    }
}
