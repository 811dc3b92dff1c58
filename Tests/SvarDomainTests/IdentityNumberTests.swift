import SvarDomain
import Testing

/// The worked examples of docs/domain.md (synthetic or constructed numbers only).
@Suite struct IdentityNumberTests {
    @Test func skatteetatenSyntheticNumbersAreValidInTestMode() throws {
        let a = try IdentityNumber("01914796756", allowSynthetic: true)
        #expect(a.kind == .fnr && a.isSynthetic && a.controlRule == .rules1964)
        let b = try IdentityNumber("02838897382", allowSynthetic: true)
        #expect(b.isSynthetic)
        #expect(try IdentityNumber("02013299997", allowSynthetic: false).kind == .fnr)
    }

    @Test func syntheticNumbersAreRefusedInProduction() {
        #expect(throws: IdentityNumberError.syntheticInProduction) { try IdentityNumber("01914796756", allowSynthetic: false) }
    }

    @Test func aChangedLastDigitFailsTheSecondControlDigit() {
        #expect(throws: IdentityNumberError.secondControlDigit) { try IdentityNumber("01914796757", allowSynthetic: true) }
    }

    @Test func aChangedK1FailsUnderBothRuleSets() {
        #expect(throws: IdentityNumberError.firstControlDigit) { try IdentityNumber("01914796746", allowSynthetic: true) }
    }

    @Test func aK1ValidOnlyUnderThe2032RulesIsAccepted() throws {
        let n = try IdentityNumber("01914796764", allowSynthetic: true)
        #expect(n.controlRule == .rules2032)
    }

    @Test func dHAndFHNumbers() throws {
        let d = try IdentityNumber("41914796073", allowSynthetic: true)
        #expect(d.kind == .dNumber && d.isSynthetic)
        #expect(try IdentityNumber("15427297354", allowSynthetic: false).kind == .hNumber)
        #expect(try IdentityNumber("81234567802", allowSynthetic: false).kind == .fhNumber)
        #expect(try IdentityNumber("91234567883", allowSynthetic: false).kind == .fhNumber)
        #expect(d.system == "urn:oid:2.16.578.1.12.4.1.4.2")
    }

    @Test(arguments: [
        ("0191479675", IdentityNumberError.wrongLength(10)),
        ("019147967560", .wrongLength(12)),
        ("0191479675a", .notDigits),
        ("32014796756", .firstControlDigit),
    ])
    func malformedNumbersSayWhichCheckFailed(_ text: String, _ expected: IdentityNumberError) {
        #expect(throws: expected) { try IdentityNumber(text, allowSynthetic: true) }
    }

    @Test func anImpossibleDateIsRefusedEvenWithGoodControlDigits() throws {
        // 31 April 1947 (310447) with an individual number whose control digits come out right.
        let w1 = [3, 7, 6, 1, 8, 9, 4, 5, 2]
        let w2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
        var found: String?
        for individual in 0..<1000 where found == nil {
            let body = [3, 1, 0, 4, 4, 7, individual / 100, individual / 10 % 10, individual % 10]
            let k1 = (11 - zip(body, w1).map(*).reduce(0, +) % 11) % 11
            guard k1 < 10 else { continue }
            let k2 = (11 - zip(body + [k1], w2).map(*).reduce(0, +) % 11) % 11
            guard k2 < 10 else { continue }
            found = (body + [k1, k2]).map(String.init).joined()
        }
        let text = try #require(found)
        #expect(throws: IdentityNumberError.invalidDate) { try IdentityNumber(text, allowSynthetic: false) }
    }

    @Test func descriptionNeverShowsTheNumber() throws {
        let n = try IdentityNumber("01914796756", allowSynthetic: true)
        #expect(!"\(n)".contains("01914796756"))
        #expect(!String(describing: n).contains("796756"))
    }
}
