import Foundation
import SvarDomain
import SvarStore

/// The clinicians' response overview (`/oversikt`): per unit and milestone, how many patients were due a
/// questionnaire and what became of each, so that a form nobody sent or nobody could receive lowers the rate
/// instead of vanishing from it. The terms (docs/domain.md, "Response figures"):
///
/// - **eligible**: invitations whose answering window has opened, except those cancelled for a reason that takes the
///   patient out of the milestone (a new course, a duplicate, death, the clinician's decision). Cancelled by a
///   reservation still counts: the patient was due and said no to the registry.
/// - **invited**: of the eligible, those the patient was asked to answer (reached `invited` or a state after it;
///   the same rule as `svar report`). Not an outcome: a subset.
/// - the outcomes, one per eligible invitation, adding up to *eligible*:
///   **answered** (`completed`); **reserved** (the patient has reserved, whatever the invitation's state);
///   **not reached** (every channel failed at some point, and it was not answered — open or closed since);
///   **expired** (the window closed without an answer, sent or never sent); **declined** (the patient said no in
///   the form); **awaiting** (the window is still open).
/// - **response rate**: answered ÷ eligible (never ÷ invited).
/// - **by channel**: the channel the invitation message was delivered on; "none" when it never was.
/// - **by reminders**: the number of reminders sent for the invitation.
/// - **median days to answer**: over the answered invitations that were sent, the median of the whole days
///   (24-hour periods, rounded down) from the first sending to the answer.
///
/// Small cells follow `svar report` (`StatisticsReport`): a count from 1 to `minCell − 1` is shown as "<minCell", and
/// a rate or median resting on fewer than `minCell` answers is withheld. Unlike the report, the overview shows
/// totals (eligible) beside the parts that add up to them, so where exactly one part is hidden the smallest other
/// non-zero part is withheld too, and a rate is shown only beside shown counts: no hidden count can then be found
/// by subtraction or division.
public struct ResponseOverview: Sendable {
    /// A shown count, or why it is not shown.
    public enum Count: Sendable, Equatable {
        case shown(Int)
        /// From 1 to `minCell − 1`.
        case small
        /// Hidden so that a small count beside it cannot be worked out from the total.
        case withheld

        public var value: Int? {
            if case .shown(let n) = self { return n }
            return nil
        }
    }

    /// One eligible invitation's fate; each counts under exactly one.
    public enum Outcome: String, Sendable, CaseIterable {
        case answered, expired, notReached, reserved, declined, awaiting
    }

    /// A breakdown line: the eligible invitations of one channel or one number of reminders.
    public struct Part: Sendable, Equatable {
        /// The channel (`email`, `sms`; `none` when nothing was delivered) or the number of reminders.
        public var key: String
        public var eligible: Count
        public var answered: Count
        /// answered ÷ eligible, exact; nil when withheld.
        public var rate: Decimal?
    }

    public struct Row: Sendable, Equatable {
        public var unit: String
        public var unitName: String
        public var milestone: String
        public var eligible: Count
        public var invited: Count
        public var outcomes: [Outcome: Count]
        public var rate: Decimal?
        public var medianDaysToAnswer: Decimal?
        public var byChannel: [Part]
        public var byReminders: [Part]
    }

    public let minCell: Int
    public let rows: [Row]

    public init(_ facts: [ResponseFacts], minCell: Int = StatisticsReport.defaultMinCell) throws(StatisticsError) {
        guard minCell >= StatisticsReport.smallestMinCell else {
            throw StatisticsError(
                field: "minCell",
                reason: "must be at least \(StatisticsReport.smallestMinCell) (got \(minCell)): smaller cells identify patients")
        }
        self.minCell = minCell
        var cells: [String: [ResponseFacts]] = [:]
        var order: [String] = []
        for fact in facts where Self.isEligible(fact) {
            let key = "\(fact.unit)\u{0}\(fact.milestone)"
            if cells[key] == nil { order.append(key) }
            cells[key, default: []].append(fact)
        }
        rows = order.compactMap { key in cells[key].map { Self.row($0, minCell: minCell) } }
            .sorted { ($0.unit, $0.milestone) < ($1.unit, $1.milestone) }
    }

    /// Whether the invitation counts at all: cancelled ones only when a reservation cancelled them.
    public static func isEligible(_ fact: ResponseFacts) -> Bool {
        fact.state != .cancelled || fact.cancelReason == .reservation
    }

    /// The one place that says what became of an eligible invitation.
    public static func outcome(_ fact: ResponseFacts) -> Outcome {
        if fact.patientReserved || fact.state == .cancelled { return .reserved }
        switch fact.state {
        case .completed: return .answered
        case .declined: return .declined
        case .unreachable: return .notReached
        case .expired: return fact.everUnreachable ? .notReached : .expired
        case .scheduled, .invited, .reminded, .opened, .cancelled: return .awaiting
        }
    }

    static func row(_ facts: [ResponseFacts], minCell: Int) -> Row {
        let first = facts[0]
        func total(_ include: (ResponseFacts) -> Bool) -> Int { facts.filter(include).map(\.count).reduce(0, +) }
        let eligible = total { _ in true }
        let answered = total { outcome($0) == .answered }
        let outcomeCounts = parts(Outcome.allCases.map { o in total { outcome($0) == o } }, minCell: minCell)
        let outcomes = Dictionary(uniqueKeysWithValues: zip(Outcome.allCases, outcomeCounts))
        let shownEligible = count(eligible, minCell)
        let channels = Set(facts.map { $0.channel ?? "none" }).sorted { channelOrder($0) < channelOrder($1) }
        let reminders = Set(facts.map(\.remindersSent)).sorted()
        return Row(
            unit: first.unit, unitName: first.unitName, milestone: first.milestone, eligible: shownEligible,
            invited: count(total(\.asked), minCell), outcomes: outcomes,
            rate: answered >= minCell ? rate(outcomes[.answered], shownEligible) : nil,
            medianDaysToAnswer: median(facts.filter { outcome($0) == .answered }, minCell: minCell),
            byChannel: breakdown(facts, keys: channels, minCell: minCell) { $0.channel ?? "none" },
            byReminders: breakdown(facts, keys: reminders.map(String.init), minCell: minCell) { String($0.remindersSent) })
    }

    /// E-mail, SMS, any other channel by name, and "none" last.
    static func channelOrder(_ channel: String) -> String {
        switch channel {
        case "email": return "0"
        case "sms": return "1"
        case "none": return "3"
        default: return "2" + channel
        }
    }

    /// The eligible and answered invitations of each key: both columns are parts of a shown total.
    static func breakdown(_ facts: [ResponseFacts], keys: [String], minCell: Int, key: (ResponseFacts) -> String) -> [Part] {
        let eligible = keys.map { k in facts.filter { key($0) == k }.map(\.count).reduce(0, +) }
        let answered = keys.map { k in facts.filter { key($0) == k && outcome($0) == .answered }.map(\.count).reduce(0, +) }
        let shownEligible = parts(eligible, minCell: minCell)
        let shownAnswered = parts(answered, minCell: minCell)
        return keys.indices.map { i in
            Part(
                key: keys[i], eligible: shownEligible[i], answered: shownAnswered[i],
                rate: answered[i] >= minCell ? rate(shownAnswered[i], shownEligible[i]) : nil)
        }
    }

    /// The same rule as `svar report` for one count.
    static func count(_ n: Int, _ minCell: Int) -> Count { (1..<minCell).contains(n) ? .small : .shown(n) }

    /// Counts of parts that add up to a shown total: small ones hidden; when exactly one is hidden, the smallest
    /// other non-zero part is withheld as well, so the hidden one is not the total minus the shown ones.
    static func parts(_ counts: [Int], minCell: Int) -> [Count] {
        var shown = counts.map { count($0, minCell) }
        if shown.filter({ $0 == .small }).count == 1,
            let other = counts.indices.filter({ shown[$0] != .small && counts[$0] > 0 }).min(by: { counts[$0] < counts[$1] })
        {
            shown[other] = .withheld
        }
        return shown
    }

    /// answered ÷ eligible, only when both are shown.
    static func rate(_ answered: Count?, _ eligible: Count) -> Decimal? {
        guard let a = answered?.value, let e = eligible.value, e > 0 else { return nil }
        return Decimal(a) / Decimal(e)
    }

    /// The median whole days from sending to answer, when at least `minCell` answers were sent first.
    static func median(_ answered: [ResponseFacts], minCell: Int) -> Decimal? {
        let days = answered.flatMap { fact in fact.daysToAnswer.map { Array(repeating: $0, count: fact.count) } ?? [] }.sorted()
        guard days.count >= minCell else { return nil }
        let middle = days.count / 2
        return days.count % 2 == 1 ? Decimal(days[middle]) : Decimal(days[middle - 1] + days[middle]) / 2
    }
}
