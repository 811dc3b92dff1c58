import Foundation

extension ValueSet {
    /// The instrument-defined minimal important difference of this value set's index: the mean change in the
    /// index over every smallest step the descriptive system allows (one dimension, one level, all other
    /// dimensions held at every combination of levels).
    ///
    /// Why computed and not a table: the method (Luo, Johnson & Coons 2010, Med Care 48:365; applied to
    /// EQ-5D-5L by McClure et al. 2017, Value Health 20:644) depends only on the value set, so every value set a
    /// registry adds gets its MID without anyone transcribing a number. The test checks the result against the
    /// published figures for value sets both sides have.
    public func instrumentDefinedMID(dimensions: [String], levels: ClosedRange<Int>) -> Decimal {
        let steps = levels.count
        let states = Int(pow(Double(steps), Double(dimensions.count)))
        var total = Decimal(0)
        var transitions = 0
        for state in 0..<states {
            // The state's levels, dimension by dimension (base `steps` digits of `state`).
            var rest = state
            var current: [(dimension: String, level: Int)] = []
            for dimension in dimensions {
                current.append((dimension, levels.lowerBound + rest % steps))
                rest /= steps
            }
            let here = index(levels: current)
            for position in current.indices where current[position].level < levels.upperBound {
                var worse = current
                worse[position].level += 1
                let change = here - index(levels: worse)
                total += change < 0 ? -change : change
                transitions += 1
            }
        }
        return transitions == 0 ? 0 : total / Decimal(transitions)
    }
}
