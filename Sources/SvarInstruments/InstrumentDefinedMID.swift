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
        // Each state's index once (state number = its levels as base-`steps` digits, first dimension lowest);
        // a transition one level worse in dimension `d` is then the state `stride(d)` further on.
        let indices = (0..<states).map { state in
            var rest = state
            return index(
                levels: dimensions.map { dimension in
                    defer { rest /= steps }
                    return (dimension, levels.lowerBound + rest % steps)
                })
        }
        var total = Decimal(0)
        var transitions = 0
        for state in 0..<states {
            var rest = state
            var stride = 1
            for _ in dimensions {
                if levels.lowerBound + rest % steps < levels.upperBound {
                    let change = indices[state] - indices[state + stride]
                    total += change < 0 ? -change : change
                    transitions += 1
                }
                rest /= steps
                stride *= steps
            }
        }
        return transitions == 0 ? 0 : total / Decimal(transitions)
    }
}
