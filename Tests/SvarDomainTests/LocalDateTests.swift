import Foundation
import SvarDomain
import Testing

@Suite struct LocalDateTests {
    func date(_ text: String) throws -> LocalDate { try #require(LocalDate(iso: text)) }

    @Test func leapDayPlusTwelveMonthsIsTheLastDayOfFebruary() throws {
        #expect(try date("2028-02-29").adding(months: 12) == (try date("2029-02-28")))
        #expect(try date("2028-02-29").adding(months: 48) == (try date("2032-02-29")))
        #expect(try date("2026-01-31").adding(months: 1) == (try date("2026-02-28")))
    }

    @Test func dayArithmeticCrossesMonthsAndYears() throws {
        #expect(try date("2026-12-25").adding(days: 14) == (try date("2027-01-08")))
        #expect(try date("2028-03-01").adding(days: -1) == (try date("2028-02-29")))
        #expect(try date("2026-01-01").days(until: try date("2027-01-01")) == 365)
        for n in stride(from: -800_000, through: 800_000, by: 997) {
            #expect(LocalDate(dayNumber: n).dayNumber == n)
        }
    }

    @Test(arguments: ["2026-02-29", "2026-13-01", "2026-1-01", "26-01-01", "2026-01-32", "x"])
    func invalidDatesAreRefused(_ text: String) {
        #expect(LocalDate(iso: text) == nil)
    }

    @Test func osloWallTimeAcrossClockChanges() throws {
        // 2027-03-28: clocks go from 02:00 to 03:00 (CET → CEST); 2027-10-31: from 03:00 back to 02:00.
        let before = OsloTime.instant(try date("2027-03-27"), hour: 9)
        let after = OsloTime.instant(try date("2027-03-28"), hour: 9)
        #expect(after.timeIntervalSince(before) == 23 * 3600)
        let autumnBefore = OsloTime.instant(try date("2027-10-30"), hour: 9)
        let autumnAfter = OsloTime.instant(try date("2027-10-31"), hour: 9)
        #expect(autumnAfter.timeIntervalSince(autumnBefore) == 25 * 3600)
        // 09:00 Oslo is 08:00 UTC in winter and 07:00 UTC in summer.
        #expect(Int(after.timeIntervalSince1970) % 86_400 == 7 * 3600)
        #expect(Int(before.timeIntervalSince1970) % 86_400 == 8 * 3600)
        #expect(OsloTime.date(of: after) == (try date("2027-03-28")))
        // 23:30 UTC on 31 December is already 1 January in Oslo.
        let newYear = OsloTime.instant(try date("2027-01-01"), hour: 0, minute: 30)
        #expect(OsloTime.date(of: newYear) == (try date("2027-01-01")))
    }
}
