import Foundation
import SvarDomain

public struct StatisticsCellCounts: Sendable, Equatable {
    public var unit: String
    public var unitName: String
    public var milestone: String
    /// Invitations that reached `invited` or a later state (a patient was asked).
    public var invited: Int
    /// Of those, the completed ones.
    public var answered: Int

    public init(unit: String, unitName: String, milestone: String, invited: Int, answered: Int) {
        self.unit = unit
        self.unitName = unitName
        self.milestone = milestone
        self.invited = invited
        self.answered = answered
    }
}

/// Every numeric value of one score key in one cell, as exact decimal text (summed exactly by the report).
public struct StatisticsScoreValues: Sendable, Equatable {
    public var unit: String
    public var milestone: String
    public var instrument: String
    public var key: String
    /// EQ-5D indices from different value sets are different measures and are never averaged together.
    public var valueSet: String?
    public var numbers: [String]

    public init(unit: String, milestone: String, instrument: String, key: String, valueSet: String?, numbers: [String]) {
        self.unit = unit
        self.milestone = milestone
        self.instrument = instrument
        self.key = key
        self.valueSet = valueSet
        self.numbers = numbers
    }
}

public struct StatisticsInput: Sendable, Equatable {
    public var cells: [StatisticsCellCounts]
    public var scores: [StatisticsScoreValues]

    public init(cells: [StatisticsCellCounts], scores: [StatisticsScoreValues]) {
        self.cells = cells
        self.scores = scores
    }
}

/// A group of invitations of one unit and milestone that share every fact the clinicians' response overview counts
/// by, with how many there are: the raw material of `ResponseOverview` (SvarServices), which alone decides which
/// invitations are eligible, what outcome each has and what may be shown. Raw counts, never shown as they are (§ 4-3).
public struct ResponseFacts: Sendable, Equatable {
    public var unit: String
    public var unitName: String
    public var milestone: String
    public var state: InvitationState
    public var cancelReason: CancelReason?
    /// The patient has reserved against the registry (§ 3-3), whatever state the invitation reached.
    public var patientReserved: Bool
    /// The patient was asked: the invitation reached `invited` or any later state that follows one (the same rule as
    /// `svar report`'s "invited").
    public var asked: Bool
    /// Every channel failed at some point: the invitation was `unreachable`, whatever came after.
    public var everUnreachable: Bool
    /// The channel the invitation message was delivered on (`email`, `sms`); nil when none was delivered.
    public var channel: String?
    public var remindersSent: Int
    /// Whole days (24 hours) from the first move to `invited` to the answer; nil unless answered after being sent.
    public var daysToAnswer: Int?
    public var count: Int

    public init(
        unit: String, unitName: String, milestone: String, state: InvitationState, cancelReason: CancelReason? = nil,
        patientReserved: Bool = false, asked: Bool, everUnreachable: Bool = false, channel: String? = nil, remindersSent: Int = 0,
        daysToAnswer: Int? = nil, count: Int = 1
    ) {
        self.unit = unit
        self.unitName = unitName
        self.milestone = milestone
        self.state = state
        self.cancelReason = cancelReason
        self.patientReserved = patientReserved
        self.asked = asked
        self.everUnreachable = everUnreachable
        self.channel = channel
        self.remindersSent = remindersSent
        self.daysToAnswer = daysToAnswer
        self.count = count
    }
}
