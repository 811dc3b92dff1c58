import SvarDomain
import Testing

@Suite struct PathwayRulesTests {
    let today = LocalDate(iso: "2026-12-01")!

    @Test func aCourseMustStartFirst() throws {
        let error = #expect(throws: PathwayError.self) { try PathwayRules.check(try event(.end, "2026-02-01"), after: [], today: today) }
        #expect(error?.kind == .outOfOrder)
        #expect(error?.reason.contains("needs a 'start' event first") == true)
    }

    @Test func endBeforeStartIsOutOfOrder() throws {
        let start = try event(.start, "2026-03-01")
        let error = #expect(throws: PathwayError.self) {
            try PathwayRules.check(try event(.end, "2026-02-01"), after: [start], today: today)
        }
        #expect(error?.field == "date")
    }

    @Test func duplicatesAreRefused() throws {
        let start = try event(.start, "2026-03-01")
        #expect(throws: PathwayError.self) { try PathwayRules.check(try event(.start, "2026-03-02"), after: [start], today: today) }
        let evaluation = try event(.evaluation, "2026-04-01")
        let error = #expect(throws: PathwayError.self) {
            try PathwayRules.check(try event(.evaluation, "2026-04-01", id: "other"), after: [start, evaluation], today: today)
        }
        #expect(error?.kind == .duplicate)
    }

    @Test func nothingFollowsTheEnd() throws {
        let events = [try event(.start, "2026-03-01"), try event(.end, "2026-05-01")]
        let error = #expect(throws: PathwayError.self) {
            try PathwayRules.check(try event(.evaluation, "2026-06-01"), after: events, today: today)
        }
        #expect(error?.reason.contains("a new referral is a new course") == true)
    }

    @Test func futureDatesAreRefused() throws {
        let error = #expect(throws: PathwayError.self) { try PathwayRules.check(try event(.start, "2026-12-02"), after: [], today: today) }
        #expect(error?.field == "date")
    }

    @Test func theEndCannotPrecedeEarlierEvents() throws {
        let events = [try event(.start, "2026-03-01"), try event(.evaluation, "2026-05-01")]
        #expect(throws: PathwayError.self) { try PathwayRules.check(try event(.end, "2026-04-01"), after: events, today: today) }
        #expect(throws: Never.self) { try PathwayRules.check(try event(.end, "2026-05-01"), after: events, today: today) }
    }

    @Test func aNormalCourseIsAccepted() throws {
        var events: [PathwayEvent] = []
        for (type, date) in [
            (PathwayEventType.start, "2026-01-05"), (.firstAttendance, "2026-01-07"), (.clinicalDecision, "2026-01-20"),
            (.evaluation, "2026-02-20"), (.transfer, "2026-03-01"), (.evaluation, "2026-04-10"), (.end, "2026-06-15"),
        ] {
            let next = try event(type, date)
            try PathwayRules.check(next, after: events, today: today)
            events.append(next)
        }
        #expect(events.count == 7)
    }

    /// The event form offers what `validNext` lists: only `start` on a new course, never `start` again, never a
    /// once-only event twice, nothing after the end.
    @Test func onlyTheEventsThatMayComeNextAreValidNext() throws {
        let start = try event(.start, "2026-03-01")
        #expect(PathwayRules.validNext(after: []) == [.start])
        #expect(PathwayRules.validNext(after: [start]) == [.firstAttendance, .clinicalDecision, .evaluation, .transfer, .end, .breakOff])
        let attended = [start, try event(.firstAttendance, "2026-03-02"), try event(.evaluation, "2026-04-01")]
        #expect(PathwayRules.validNext(after: attended) == [.clinicalDecision, .evaluation, .transfer, .end, .breakOff])
        #expect(PathwayRules.validNext(after: [start, try event(.breakOff, "2026-04-01")]).isEmpty)
    }

    /// `validNext` and `check` are one rule: on a date that fits, `check` accepts exactly the types `validNext` offers.
    @Test func validNextAgreesWithCheck() throws {
        let courses: [[PathwayEvent]] = [
            [], [try event(.start, "2026-03-01")],
            [try event(.start, "2026-03-01"), try event(.firstAttendance, "2026-03-02"), try event(.clinicalDecision, "2026-03-03")],
            [try event(.start, "2026-03-01"), try event(.end, "2026-03-05")],
        ]
        for events in courses {
            let next = PathwayRules.validNext(after: events)
            for type in PathwayEventType.allCases {
                let accepted = (try? PathwayRules.check(try event(type, "2026-06-01"), after: events, today: today)) != nil
                #expect(accepted == next.contains(type), "\(type) after \(events.map(\.type))")
            }
        }
    }
}
