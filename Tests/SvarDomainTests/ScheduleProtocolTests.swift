import Foundation
import SvarDomain
import Testing

let kvarusProtocolFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Sources/SvarAssets/instruments/protocols/kvarus.json")
let knownInstruments: Set<String> = ["rand36", "eq5d-5l", "eq5d-3l", "kvarus-followup"]

func kvarusFile() throws -> ScheduleProtocolFile {
    try JSONDecoder().decode(ScheduleProtocolFile.self, from: Data(contentsOf: kvarusProtocolFile))
}

func kvarus() throws -> ScheduleProtocol { try kvarusFile().scheduleProtocol(knownInstruments: knownInstruments) }

func event(_ type: PathwayEventType, _ date: String, id: String? = nil) throws -> PathwayEvent {
    PathwayEvent(
        id: id ?? "\(type.rawValue)-\(date)", type: type, date: try #require(LocalDate(iso: date)), unit: "4208", recordedBy: "test")
}

func oslo(_ date: String, _ hour: Int = 0) throws -> Date { OsloTime.instant(try #require(LocalDate(iso: date)), hour: hour) }

@Suite struct ScheduleProtocolTests {
    @Test func startCreatesTheBaselineWithItsWindowAndReminders() throws {
        let plans = try kvarus().plans(for: try event(.start, "2026-01-05"), after: [])
        #expect(plans.map(\.milestone) == ["baseline"])
        let baseline = try #require(plans.first)
        #expect(baseline.instruments == ["rand36", "eq5d-5l"])
        #expect(baseline.opensAt == (try oslo("2026-01-05", 9)))
        #expect(baseline.closesAt == (try oslo("2026-01-27")))  // through the end of day 21 (2026-01-26)
        #expect(baseline.reminders == [try oslo("2026-01-12", 9), try oslo("2026-01-23", 9)])
    }

    @Test func baselineIsCreatedOnceEvenWhenFirstAttendanceFollows() throws {
        let start = try event(.start, "2026-01-05")
        #expect(try kvarus().plans(for: try event(.firstAttendance, "2026-01-09"), after: [start]).isEmpty)
    }

    @Test func everyEvaluationCreatesAnEvaluationInvitation() throws {
        let p = try kvarus()
        let start = try event(.start, "2026-01-05")
        let first = try event(.evaluation, "2026-03-01")
        #expect(p.plans(for: first, after: [start]).map(\.milestone) == ["evaluation"])
        #expect(p.plans(for: try event(.evaluation, "2026-05-01"), after: [start, first]).map(\.milestone) == ["evaluation"])
    }

    @Test func endCreatesTheEndAndTheOneYearFollowUpAtOnce() throws {
        let plans = try kvarus().plans(for: try event(.end, "2026-06-15"), after: [try event(.start, "2026-01-05")])
        #expect(plans.map(\.milestone) == ["end", "followUp1y"])
        let followUp = try #require(plans.last)
        #expect(followUp.dueDate == LocalDate(iso: "2027-06-15"))
        #expect(followUp.opensAt == (try oslo("2027-06-01", 9)))  // two weeks before
        #expect(followUp.closesAt == (try oslo("2027-07-28")))  // six weeks after, through the end of that day
        #expect(followUp.instruments == ["rand36", "eq5d-5l", "kvarus-followup"])
    }

    @Test func breakOffAlsoLeadsToTheFollowUp() throws {
        let plans = try kvarus().plans(for: try event(.breakOff, "2026-06-15"), after: [try event(.start, "2026-01-05")])
        #expect(plans.map(\.milestone) == ["end", "followUp1y"])
    }

    @Test func anEndOnALeapDayGivesAFollowUpOnTheTwentyEighthOfFebruary() throws {
        let plans = try kvarus().plans(for: try event(.end, "2028-02-29"), after: [try event(.start, "2027-09-01")])
        let followUp = try #require(plans.first { $0.milestone == "followUp1y" })
        #expect(followUp.dueDate == LocalDate(iso: "2029-02-28"))
        #expect(followUp.opensAt == (try oslo("2029-02-14", 9)))
    }

    @Test(arguments: [("2026-03-29", "2027-03-29"), ("2026-10-25", "2027-10-25"), ("2026-03-15", "2027-03-15")])
    func followUpsAroundClockChangesOpenAtNineOsloTime(_ end: String, _ anniversary: String) throws {
        let plans = try kvarus().plans(for: try event(.end, end), after: [try event(.start, "2026-01-05")])
        let followUp = try #require(plans.first { $0.milestone == "followUp1y" })
        #expect(followUp.dueDate == LocalDate(iso: anniversary))
        let opens = try #require(LocalDate(iso: anniversary)).adding(days: -14)
        #expect(followUp.opensAt == OsloTime.instant(opens, hour: 9))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = OsloTime.zone
        #expect(calendar.component(.hour, from: followUp.opensAt) == 9)
        for reminder in followUp.reminders {
            #expect(calendar.component(.hour, from: reminder) == 9)
        }
    }

    @Test func theEndMilestoneOfAnEndOnTheSpringClockChangeClosesAtMidnight() throws {
        // End 2027-03-14: window to 2027-03-28 (the spring-forward day) inclusive, closing at 00:00 on 03-29.
        let plans = try kvarus().plans(for: try event(.end, "2027-03-14"), after: [try event(.start, "2027-01-05")])
        let end = try #require(plans.first { $0.milestone == "end" })
        #expect(end.closesAt == (try oslo("2027-03-29")))
        #expect(end.closesAt.timeIntervalSince(end.opensAt) == 14 * 86_400 + 15 * 3600 - 3600)
    }

    @Test func aWrongInstrumentIdStopsLoadingNamingTheField() throws {
        var file = try kvarusFile()
        file.milestones[2].instruments[1] = "eq5d-6l"
        let error = #expect(throws: ProtocolError.self) { try file.scheduleProtocol(knownInstruments: knownInstruments) }
        #expect(error?.field == "milestones[2].instruments[1]")
        #expect(error?.reason.contains("eq5d-6l") == true)
    }

    @Test func aWindowThatClosesBeforeItOpensIsRefused() throws {
        var file = try kvarusFile()
        file.milestones[3].closes = .init(months: 11)
        let error = #expect(throws: ProtocolError.self) { try file.scheduleProtocol(knownInstruments: knownInstruments) }
        #expect(error?.field == "milestones[3].closes")
    }

    @Test func nudgeRulesAndLabelsComeFromTheFile() throws {
        let p = try kvarus()
        #expect(p.nudgeRules == [ScheduleProtocol.NudgeRule(milestone: "evaluation", afterDays: 90, countsFrom: [.start, .evaluation])])
        #expect(p.nudgeCountsRestarted(by: .start) == ["evaluation"])
        #expect(p.nudgeCountsRestarted(by: .clinicalDecision).isEmpty)
        #expect(p.milestone("followUp1y")?.label("nn") == "Oppfølging etter eitt år")
        #expect(p.milestone("baseline")?.label("se") == "Oppstart", "a language without a label falls back to bokmål")
        var file = try kvarusFile()
        file.milestones[1].nudgeCountsFrom = nil
        #expect(
            try file.scheduleProtocol(knownInstruments: knownInstruments).nudgeRules.first?.countsFrom == [.evaluation],
            "without nudgeCountsFrom the count follows the triggers")
    }

    @Test func badNudgeAndLabelFieldsAreRefusedNamingTheField() throws {
        var file = try kvarusFile()
        file.milestones[0].nudgeCountsFrom = [.start]
        var error = #expect(throws: ProtocolError.self) { try file.scheduleProtocol(knownInstruments: knownInstruments) }
        #expect(error?.field == "milestones[0].nudgeCountsFrom" && error?.reason == "needs nudgeAfterDays")
        file = try kvarusFile()
        file.milestones[2].label = ["nb": "Slutt", "de": "Ende"]
        error = #expect(throws: ProtocolError.self) { try file.scheduleProtocol(knownInstruments: knownInstruments) }
        #expect(error?.field == "milestones[2].label.de")
        file.milestones[2].label = ["en": "End"]
        error = #expect(throws: ProtocolError.self) { try file.scheduleProtocol(knownInstruments: knownInstruments) }
        #expect(error?.field == "milestones[2].label.nb")
    }

    @Test func aBadSendTimeIsRefused() throws {
        var file = try kvarusFile()
        file.sendTime = "25:00"
        let error = #expect(throws: ProtocolError.self) { try file.scheduleProtocol(knownInstruments: knownInstruments) }
        #expect(error?.field == "sendTime")
    }
}
