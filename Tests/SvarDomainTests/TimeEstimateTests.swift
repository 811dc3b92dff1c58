import SvarDomain
import Testing

/// The time told to a patient is the number of questions at 20 seconds each, rounded up to whole minutes.
@Suite struct TimeEstimateTests {
    @Test(arguments: [(0, 1), (1, 1), (3, 1), (4, 2), (6, 2), (36, 12), (42, 14), (100, 34)])
    func minutesAreRoundedUpFromTwentySecondsPerQuestion(_ items: Int, _ minutes: Int) {
        #expect(TimeEstimate.minutes(items: items) == minutes)
    }

    @Test func moreQuestionsNeverTakeLess() {
        let estimates = (0...200).map { TimeEstimate.minutes(items: $0) }
        #expect(zip(estimates, estimates.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(TimeEstimate.minutes(items: 200) * 60 >= 200 * TimeEstimate.secondsPerItem)
    }
}
