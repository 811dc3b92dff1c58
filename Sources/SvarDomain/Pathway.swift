/// What happened on a treatment course, as the clinician (or the EHR) records it.
public enum PathwayEventType: String, Sendable, Codable, CaseIterable {
    case start, firstAttendance, clinicalDecision, evaluation, transfer, end, breakOff

    /// Events that may occur once per course.
    var isOnce: Bool { self != .evaluation && self != .transfer }
    var endsCourse: Bool { self == .end || self == .breakOff }
}

/// Course types of the national pathways (NPR code set 9321).
public enum CourseType: String, Sendable, Codable, CaseIterable {
    // swift-format-ignore: AlwaysUseLowerCamelCase
    case D01, D11, D12
}

public struct PathwayEvent: Sendable, Equatable, Codable {
    public var id: String
    public var type: PathwayEventType
    public var date: LocalDate
    /// RESH-id of the unit where it happened (for `transfer`: the receiving unit).
    public var unit: String
    public var nprCode: String?
    public var recordedBy: String

    public init(id: String, type: PathwayEventType, date: LocalDate, unit: String, nprCode: String? = nil, recordedBy: String) {
        self.id = id
        self.type = type
        self.date = date
        self.unit = unit
        self.nprCode = nprCode
        self.recordedBy = recordedBy
    }
}

/// Why a pathway event cannot be recorded; `field` names the input field at fault.
public struct PathwayError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable { case outOfOrder, duplicate, invalid }
    public let kind: Kind
    public let field: String
    public let reason: String
    public var description: String { "\(field): \(reason)" }
}

/// The rules that keep a course's history coherent (docs/domain.md).
public enum PathwayRules {
    /// The event types that may be recorded next on a course with these events, whatever their date: what the
    /// clinician's event form offers, so that it never suggests an event `check` would refuse for its type.
    public static func validNext(after existing: [PathwayEvent]) -> [PathwayEventType] {
        PathwayEventType.allCases.filter { type in (try? checkOrder(type, after: existing)) != nil }
    }

    /// Whether an event of this type may follow the recorded ones at all, before its date is looked at: nothing
    /// after the end, `start` first, once-only events once. `check` asks this too, so the two never disagree.
    public static func checkOrder(_ type: PathwayEventType, after existing: [PathwayEvent]) throws(PathwayError) {
        if let ended = existing.first(where: { $0.type.endsCourse }) {
            throw PathwayError(
                kind: .outOfOrder, field: "type",
                reason: "the course ended (\(ended.type.rawValue)) on \(ended.date); a new referral is a new course")
        }
        guard existing.contains(where: { $0.type == .start }) else {
            if type == .start { return }
            throw PathwayError(kind: .outOfOrder, field: "type", reason: "'\(type.rawValue)' needs a 'start' event first")
        }
        if type.isOnce, let earlier = existing.first(where: { $0.type == type }) {
            throw PathwayError(kind: .duplicate, field: "type", reason: "'\(type.rawValue)' was already recorded on \(earlier.date)")
        }
    }

    /// Checks `event` against the events already recorded; `today` is the Oslo date now.
    public static func check(_ event: PathwayEvent, after existing: [PathwayEvent], today: LocalDate) throws(PathwayError) {
        if event.date > today {
            throw PathwayError(kind: .invalid, field: "date", reason: "\(event.date) is in the future (today is \(today))")
        }
        // Treatment pathways (pakkeforløp) began in 2019; a date decades back is a typing error, not history.
        if event.date.days(until: today) > 366 * 20 {
            throw PathwayError(kind: .invalid, field: "date", reason: "\(event.date) is more than 20 years ago; check the year")
        }
        try checkOrder(event.type, after: existing)
        // Only a first `start` passes `checkOrder` on a course without one, and it has nothing earlier to compare with.
        guard let start = existing.first(where: { $0.type == .start }) else { return }
        if event.type == .evaluation, existing.contains(where: { $0.type == .evaluation && $0.date == event.date }) {
            throw PathwayError(kind: .duplicate, field: "date", reason: "an evaluation on \(event.date) is already recorded")
        }
        if event.date < start.date {
            throw PathwayError(kind: .outOfOrder, field: "date", reason: "\(event.date) is before the course started on \(start.date)")
        }
        if event.type.endsCourse, let latest = existing.map(\.date).max(), event.date < latest {
            throw PathwayError(
                kind: .outOfOrder, field: "date", reason: "the course cannot end on \(event.date), before its last event on \(latest)")
        }
        if event.type == .firstAttendance || event.type == .clinicalDecision {
            if event.type == .clinicalDecision, let first = existing.first(where: { $0.type == .firstAttendance }), event.date < first.date
            {
                throw PathwayError(
                    kind: .outOfOrder, field: "date", reason: "the clinical decision cannot precede the first attendance on \(first.date)")
            }
        }
    }
}
