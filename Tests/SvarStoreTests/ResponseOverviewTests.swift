import Foundation
import SvarDomain
import SvarServices
import SvarStore
import Testing

/// The response overview's terms (`ResponseOverview`): what is eligible, which outcome each invitation has, the
/// rate over eligible, the breakdowns, the median and the small-cell rule.
@Suite struct ResponseOverviewTests {
    func fact(
        _ state: InvitationState, asked: Bool = true, reserved: Bool = false, cancel: CancelReason? = nil, unreachable: Bool = false,
        channel: String? = "email", reminders: Int = 0, days: Int? = nil, count: Int = 1
    ) -> ResponseFacts {
        ResponseFacts(
            unit: "4208", unitName: "Nord", milestone: "baseline", state: state, cancelReason: cancel, patientReserved: reserved,
            asked: asked, everUnreachable: unreachable, channel: channel, remindersSent: reminders, daysToAnswer: days, count: count)
    }

    /// The case: a unit whose sent forms were all answered, but whose other eligible forms expired unsent,
    /// could not be reached or were cancelled by a reservation, has a rate well below 100 %.
    @Test func expiredUnreachedAndReservedFormsCountInTheDenominator() throws {
        let facts = [
            fact(.completed, days: 1, count: 6),
            fact(.expired, asked: false, channel: nil, count: 4),
            fact(.unreachable, unreachable: true, channel: nil, count: 2),
            fact(.expired, unreachable: true, channel: nil),
            fact(.cancelled, asked: false, reserved: true, cancel: .reservation, channel: nil, count: 3),
            fact(.invited, count: 2),
            fact(.declined, count: 2),
            // Not eligible: the patient moved to a new course, and a death.
            fact(.cancelled, cancel: .newCourse, count: 7),
            fact(.cancelled, reserved: true, cancel: .death),
        ]
        let row = try #require(try ResponseOverview(facts, minCell: 3).rows.first)
        #expect(row.eligible == .shown(20))
        #expect(row.invited == .shown(13), "asked: 6 answered, 3 reached-then-unreachable, 2 open, 2 declined")
        #expect(row.outcomes[.answered] == .shown(6) && row.outcomes[.expired] == .shown(4))
        #expect(row.outcomes[.notReached] == .shown(3), "unreachable, also when its window closed since")
        #expect(row.outcomes[.reserved] == .shown(3) && row.outcomes[.awaiting] == .small && row.outcomes[.declined] == .small)
        #expect(row.rate == Decimal(6) / Decimal(20), "answered ÷ eligible, not ÷ sent (which would be 100 % of delivered)")
        #expect(ResponseOverview.outcome(fact(.completed, reserved: true)) == .reserved, "a reserved patient's answer is not counted")
    }

    @Test func smallCountsAreHiddenAndOneHiddenPartTakesAnotherWithIt() throws {
        // 9 answered and 1 expired: the 1 alone hidden would be 10 − 9, so the 9 is withheld too, and with it the rate.
        let alone = try #require(try ResponseOverview([fact(.completed, count: 9), fact(.expired, asked: false)], minCell: 5).rows.first)
        #expect(alone.eligible == .shown(10))
        #expect(alone.outcomes[.expired] == .small && alone.outcomes[.answered] == .withheld)
        #expect(alone.rate == nil && alone.outcomes[.notReached] == .shown(0))
        // Two hidden parts: neither can be worked out, and the answered count and rate are shown.
        let two = try #require(
            try ResponseOverview([fact(.completed, count: 9), fact(.expired), fact(.declined, count: 2)], minCell: 5).rows.first)
        #expect(two.outcomes[.answered] == .shown(9) && two.outcomes[.expired] == .small && two.outcomes[.declined] == .small)
        #expect(two.rate == Decimal(9) / Decimal(12))
        // Fewer answers than the smallest cell: no rate, no median.
        let few = try #require(
            try ResponseOverview([fact(.completed, days: 2, count: 4), fact(.expired, count: 6)], minCell: 5).rows.first)
        #expect(few.outcomes[.answered] == .small && few.rate == nil && few.medianDaysToAnswer == nil)
        #expect(throws: StatisticsError.self) { try ResponseOverview([], minCell: 2) }
    }

    @Test func theMedianIsOverAnsweredFormsThatWereSent() throws {
        let odd = [0, 1, 2, 3, 10].map { fact(.completed, days: $0) } + [fact(.completed, asked: false, days: nil, count: 3)]
        #expect(try ResponseOverview(odd, minCell: 5).rows.first?.medianDaysToAnswer == 2)
        let even = [fact(.completed, days: 1, count: 3), fact(.completed, days: 4, count: 3)]
        #expect(try ResponseOverview(even, minCell: 5).rows.first?.medianDaysToAnswer == Decimal(5) / 2)
        let unsent = [fact(.completed, days: 1, count: 4), fact(.completed, asked: false, count: 4)]
        #expect(try ResponseOverview(unsent, minCell: 5).rows.first?.medianDaysToAnswer == nil, "only four were sent first")
    }

    @Test func channelsAndRemindersBreakTheEligibleDown() throws {
        let facts = [
            fact(.completed, channel: "email", count: 6), fact(.completed, channel: "sms", reminders: 1, count: 5),
            fact(.expired, channel: "sms", reminders: 2, count: 5), fact(.expired, asked: false, channel: nil, count: 5),
        ]
        let row = try #require(try ResponseOverview(facts, minCell: 5).rows.first)
        #expect(row.byChannel.map(\.key) == ["email", "sms", "none"])
        #expect(row.byChannel.map(\.eligible) == [.shown(6), .shown(10), .shown(5)])
        #expect(row.byChannel.map(\.rate) == [1, Decimal(5) / 10, nil])
        #expect(row.byReminders.map(\.key) == ["0", "1", "2"])
        #expect(row.byReminders.map(\.answered) == [.shown(6), .shown(5), .shown(0)])
        #expect(row.byReminders.map(\.eligible) == [.shown(11), .shown(5), .shown(5)])
    }
}
