/// How long a questionnaire takes, as told to the patient before they start (landing page, invitation texts).
/// Counted from the questions the patient answers, not guessed per instrument, so adding an instrument to a
/// protocol changes the estimate by itself, and a long questionnaire is never announced as a short one.
public enum TimeEstimate {
    /// The assumption: about 20 seconds per question (the upper end of the 15–20 s usually seen for short
    /// health questionnaires on a phone), so slower readers are not told too little.
    public static let secondsPerItem = 20

    /// Whole minutes, rounded up, at least 1: 36 RAND-36 items + 6 EQ-5D items = 42 × 20 s = 14 min.
    public static func minutes(items: Int) -> Int {
        max(1, (max(0, items) * secondsPerItem + 59) / 60)
    }
}
