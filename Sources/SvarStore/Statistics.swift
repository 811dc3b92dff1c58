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
