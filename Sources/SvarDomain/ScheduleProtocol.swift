import Foundation

/// Which questionnaires are due at which milestone of a course, with their answer windows and reminders.
///
/// Read from `instruments/protocols/<id>.json` and checked at start-up, so a registry changes timing by
/// editing data, and a wrong instrument id or offset stops the service before it schedules anything.
public struct ScheduleProtocol: Sendable, Equatable {
    public let id: String
    public let version: String
    public let sendHour: Int
    public let sendMinute: Int
    public let milestones: [Milestone]
    /// What a patient must give, besides the link, before any question is shown.
    public let secondFactor: SecondFactor
    /// Whether the thank-you page, right after submitting, shows the patient their own scores in plain words
    /// beside the population norm (`"patientFeedback": true`; off unless the protocol turns it on).
    public var patientFeedback = false

    public enum SecondFactor: String, Sendable, Codable {
        /// The link alone.
        case none
        /// The patient's birth date, checked against the identity vault.
        case birthDate
        /// A one-time code sent through the patient's notification channel.
        case code
    }

    public struct Offset: Sendable, Equatable, Codable {
        public var months: Int
        public var days: Int
        public init(months: Int = 0, days: Int = 0) {
            self.months = months
            self.days = days
        }
        public func applied(to date: LocalDate) -> LocalDate { date.adding(months: months).adding(days: days) }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            months = try c.decodeIfPresent(Int.self, forKey: .months) ?? 0
            days = try c.decodeIfPresent(Int.self, forKey: .days) ?? 0
        }
    }

    public struct Reminder: Sendable, Equatable, Codable {
        public enum Anchor: String, Sendable, Codable { case opens, closes }
        /// Counted from the day the window opens, or from its last day (negative = before).
        public var from: Anchor
        public var days: Int
    }

    public enum Occurrence: String, Sendable, Codable {
        /// Only the first trigger event of the course creates it.
        case once
        /// Every trigger event creates one.
        case each
    }

    public struct Milestone: Sendable, Equatable, Codable {
        public var id: String
        public var triggers: [PathwayEventType]
        public var occurs: Occurrence
        public var instruments: [String]
        /// First and last day of the answer window, counted from the trigger event's date.
        public var opens: Offset
        public var closes: Offset
        public var reminders: [Reminder]
        /// Nudge the clinician when the course has had none of the `nudgeCountsFrom` events for this many days.
        public var nudgeAfterDays: Int?
        /// The events that start the nudge's count again (by default the milestone's triggers); e.g. an evaluation
        /// is due 90 days after the start or the last evaluation.
        public var nudgeCountsFrom: [PathwayEventType]?
        /// The milestone's name for people, per language (`nb`, `nn`, `en`); the id where a language is missing.
        public var label: [String: String]?

        public init(
            id: String, triggers: [PathwayEventType], occurs: Occurrence, instruments: [String], opens: Offset,
            closes: Offset, reminders: [Reminder], nudgeAfterDays: Int? = nil, nudgeCountsFrom: [PathwayEventType]? = nil,
            label: [String: String]? = nil
        ) {
            self.id = id
            self.triggers = triggers
            self.occurs = occurs
            self.instruments = instruments
            self.opens = opens
            self.closes = closes
            self.reminders = reminders
            self.nudgeAfterDays = nudgeAfterDays
            self.nudgeCountsFrom = nudgeCountsFrom
            self.label = label
        }

        /// The name in `language`, else bokmål, else the id.
        public func label(_ language: String) -> String { label?[language] ?? label?["nb"] ?? id }
    }

    /// A clinician nudge the protocol asks for: none of `countsFrom` for `afterDays` on an active course.
    public struct NudgeRule: Sendable, Equatable {
        public let milestone: String
        public let afterDays: Int
        public let countsFrom: [PathwayEventType]
        public init(milestone: String, afterDays: Int, countsFrom: [PathwayEventType]) {
            self.milestone = milestone
            self.afterDays = afterDays
            self.countsFrom = countsFrom
        }
    }

    public var nudgeRules: [NudgeRule] {
        milestones.compactMap { m in
            m.nudgeAfterDays.map { NudgeRule(milestone: m.id, afterDays: $0, countsFrom: m.nudgeCountsFrom ?? m.triggers) }
        }
    }

    /// The milestones whose nudge count an event of this type starts again.
    public func nudgeCountsRestarted(by type: PathwayEventType) -> [String] {
        nudgeRules.filter { $0.countsFrom.contains(type) }.map(\.milestone)
    }

    /// One invitation the protocol asks for.
    public struct Plan: Sendable, Equatable {
        public let milestone: String
        public let instruments: [String]
        public let triggerEventId: String
        /// The milestone's nominal date: the trigger date plus the whole months of the offset
        /// (for the one-year follow-up: the anniversary of the end).
        public let dueDate: LocalDate
        public let opensAt: Date
        public let closesAt: Date
        public let reminders: [Date]

        public init(
            milestone: String, instruments: [String], triggerEventId: String, dueDate: LocalDate,
            opensAt: Date, closesAt: Date, reminders: [Date]
        ) {
            self.milestone = milestone
            self.instruments = instruments
            self.triggerEventId = triggerEventId
            self.dueDate = dueDate
            self.opensAt = opensAt
            self.closesAt = closesAt
            self.reminders = reminders
        }
    }

    /// The invitations that `event` creates, given the events recorded before it on the same course.
    public func plans(for event: PathwayEvent, after earlier: [PathwayEvent]) -> [Plan] {
        milestones.compactMap { milestone in
            guard milestone.triggers.contains(event.type) else { return nil }
            if milestone.occurs == .once, earlier.contains(where: { milestone.triggers.contains($0.type) }) { return nil }
            return plan(milestone, triggeredBy: event)
        }
    }

    func plan(_ milestone: Milestone, triggeredBy event: PathwayEvent) -> Plan {
        let firstDay = milestone.opens.applied(to: event.date)
        let lastDay = milestone.closes.applied(to: event.date)
        let opensAt = OsloTime.instant(firstDay, hour: sendHour, minute: sendMinute)
        // The link works to the end of the last day (midnight Oslo time).
        let closesAt = OsloTime.instant(lastDay.adding(days: 1))
        var reminderDays: [LocalDate] = []
        for reminder in milestone.reminders {
            let day = (reminder.from == .opens ? firstDay : lastDay).adding(days: reminder.days)
            if day > firstDay, day <= lastDay, !reminderDays.contains(day) { reminderDays.append(day) }
        }
        let reminders = reminderDays.sorted().map { OsloTime.instant($0, hour: sendHour, minute: sendMinute) }
        return Plan(
            milestone: milestone.id, instruments: milestone.instruments, triggerEventId: event.id,
            dueDate: event.date.adding(months: milestone.opens.months), opensAt: opensAt, closesAt: closesAt, reminders: reminders)
    }

    public func milestone(_ id: String) -> Milestone? { milestones.first { $0.id == id } }
}

/// The JSON form of a protocol file.
public struct ScheduleProtocolFile: Codable, Sendable {
    public var id: String
    public var version: String
    public var title: String?
    public var sendTime: String
    public var secondFactor: String?
    /// `true` shows patients their own results once, on the thank-you page; absent means false. Anything but a
    /// boolean stops loading, naming the field.
    public var patientFeedback: Bool?
    public var milestones: [ScheduleProtocol.Milestone]

    /// Checks the file against the instruments Svar has; errors name the field.
    public func scheduleProtocol(knownInstruments: Set<String>) throws(ProtocolError) -> ScheduleProtocol {
        let parts = sendTime.split(separator: ":")
        guard parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]), (0...23).contains(hour), (0...59).contains(minute)
        else {
            throw ProtocolError(field: "sendTime", reason: "'\(sendTime)' is not a time HH:MM")
        }
        guard !milestones.isEmpty else { throw ProtocolError(field: "milestones", reason: "the protocol has no milestones") }
        guard let factor = ScheduleProtocol.SecondFactor(rawValue: secondFactor ?? "none") else {
            throw ProtocolError(field: "secondFactor", reason: "'\(secondFactor ?? "")' is not one of none, birthDate, code")
        }
        var seen = Set<String>()
        for (i, milestone) in milestones.enumerated() {
            let field = "milestones[\(i)]"
            guard seen.insert(milestone.id).inserted else {
                throw ProtocolError(field: "\(field).id", reason: "'\(milestone.id)' is used twice")
            }
            guard !milestone.triggers.isEmpty else {
                throw ProtocolError(field: "\(field).triggers", reason: "needs at least one pathway event")
            }
            guard !milestone.instruments.isEmpty else {
                throw ProtocolError(field: "\(field).instruments", reason: "needs at least one instrument")
            }
            for (j, instrument) in milestone.instruments.enumerated() where !knownInstruments.contains(instrument) {
                throw ProtocolError(
                    field: "\(field).instruments[\(j)]",
                    reason: "'\(instrument)' is not an instrument (known: \(knownInstruments.sorted().joined(separator: ", ")))")
            }
            let reference = LocalDate(year: 2001, month: 1, day: 31) ?? LocalDate(dayNumber: 0)
            let first = milestone.opens.applied(to: reference)
            let last = milestone.closes.applied(to: reference)
            guard first <= last else {
                throw ProtocolError(field: "\(field).closes", reason: "the window closes before it opens")
            }
            guard abs(milestone.opens.months) <= 120, abs(milestone.closes.months) <= 120,
                abs(milestone.opens.days) <= 3660, abs(milestone.closes.days) <= 3660
            else {
                throw ProtocolError(field: "\(field).opens", reason: "offsets must be within ten years")
            }
            for (j, reminder) in milestone.reminders.enumerated() where abs(reminder.days) > 366 {
                throw ProtocolError(field: "\(field).reminders[\(j)].days", reason: "must be within a year of the window")
            }
            if let nudge = milestone.nudgeAfterDays, nudge < 1 {
                throw ProtocolError(field: "\(field).nudgeAfterDays", reason: "must be at least 1")
            }
            if let from = milestone.nudgeCountsFrom {
                guard milestone.nudgeAfterDays != nil else {
                    throw ProtocolError(field: "\(field).nudgeCountsFrom", reason: "needs nudgeAfterDays")
                }
                guard !from.isEmpty else {
                    throw ProtocolError(field: "\(field).nudgeCountsFrom", reason: "needs at least one pathway event")
                }
            }
            if let label = milestone.label {
                for language in label.keys.sorted() where !["nb", "nn", "en"].contains(language) {
                    throw ProtocolError(field: "\(field).label.\(language)", reason: "'\(language)' is not one of nb, nn, en")
                }
                guard label["nb"] != nil else { throw ProtocolError(field: "\(field).label.nb", reason: "the bokmål label is required") }
            }
        }
        var checked = ScheduleProtocol(
            id: id, version: version, sendHour: hour, sendMinute: minute, milestones: milestones, secondFactor: factor)
        checked.patientFeedback = patientFeedback ?? false
        return checked
    }
}

public struct ProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String?
    public let field: String
    public let reason: String
    public init(file: String? = nil, field: String, reason: String) {
        self.file = file
        self.field = field
        self.reason = reason
    }
    public var description: String { "\(file.map { "\($0): " } ?? "")\(field): \(reason)" }
}
