import Foundation
import SvarInstruments
import Testing

/// Scores are stored and forwarded as exact decimal text: the kept texts must be the ones Foundation makes.
@Suite struct ExactNumberTextTests {
    @Test func keptTextsAreTheOnesDecimalDescriptionMakes() throws {
        var values: [Decimal] = []
        for numerator in -250...250 {
            for denominator in [1, 3, 7, 8, 100, 1_000, 9_999] {
                values.append(Decimal(numerator) / Decimal(denominator))
            }
        }
        for literal in ["1.50", "1.5", "0.100", "1e2", "100", "-0", "0", "-0.1090707", "1.0000000001", "123456789.987654321"] {
            values.append(try #require(ExactNumber.decimal(literal)))
        }
        for value in values {
            let first = ExactNumber.text(value)
            #expect(first == value.description, "\(value)")
            #expect(ExactNumber.text(value) == first, "\(value) kept")
        }
        // Equal values share a key: whichever came first, each reads as Foundation writes it.
        #expect(ExactNumber.text(try #require(ExactNumber.decimal("2.50"))) == "2.5")
        #expect(ExactNumber.text(try #require(ExactNumber.decimal("2.5"))) == "2.5")
    }

    @Test func aMemoPastItsLimitMakesValuesWithoutKeepingThem() {
        let memo = Memo<Int, String>(limit: 2)
        var made = 0
        for key in [1, 2, 3, 1, 2, 3] {
            #expect(
                memo.value(key) {
                    made += 1
                    return "v\(key)"
                } == "v\(key)")
        }
        #expect(memo.count == 2)
        #expect(made == 4, "1 and 2 made once and kept, 3 made each time")
    }
}
