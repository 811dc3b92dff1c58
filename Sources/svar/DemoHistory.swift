import Foundation
import SvarDomain
import SvarInstruments
import SvarServices
import SvarStore

/// Demo patients whose questionnaires were answered over a year or more, so the clinician's patient page has
/// trends, a change summary and a safety flag to show: the pathway is walked forward in time, running the
/// scheduler on each event's day and answering two days later, as a real patient would.
extension DemoData {
    /// One fictional course: its events (type, days before today) and how well the patient is at each answer
    /// (0 worst, 1 best). `worstMood` answers EQ-5D anxiety/depression at its worst at the last time point,
    /// which raises a safety flag.
    struct History {
        var name: String
        var events: [(PathwayEventType, Int)]
        var health: [Double]
        var worstMood = false
    }

    static let histories = [
        History(
            name: "Astrid Forløp", events: [(.start, 400), (.evaluation, 310), (.evaluation, 220), (.end, 130)],
            health: [0.25, 0.45, 0.6, 0.8]),
        History(
            name: "Bjørn Forløp", events: [(.start, 330), (.evaluation, 240), (.evaluation, 150), (.evaluation, 60)],
            health: [0.6, 0.5, 0.35, 0.2], worstMood: true),
        History(name: "Cecilie Forløp", events: [(.start, 210), (.evaluation, 120), (.evaluation, 30)], health: [0.4, 0.5, 0.55]),
    ]

    /// Must run before any other course exists: the scheduler passes in the past see only these courses.
    func addHistories(enrolment: Enrolment, pathways: Pathways, today: LocalDate) async throws -> Int {
        let store = runtime.store
        var answered = 0
        for (h, history) in Self.histories.enumerated() {
            guard let birth = LocalDate(year: 1950 + 7 * h, month: 3 + h, day: 9 + h),
                let number = (1...99).lazy.compactMap({ IdentityNumber.synthetic(birthDate: birth, individual: 500 + $0) }).first
            else { continue }
            let request = Enrolment.Request(
                identityNumber: number, name: history.name, email: "forlop\(h + 1)@demo.invalid", language: "nb",
                birthDate: birth.description)
            guard case .created(let patientId) = try await enrolment.enrol(request, actor: "demo", at: now) else { continue }
            let courseId = RecordId.make()
            let started = today.adding(days: -(history.events.first?.1 ?? 0))
            try await store.createCourse(
                NewCourse(id: courseId, patientId: patientId, unit: "4208", type: .D01), actor: "demo",
                at: OsloTime.instant(started, hour: 9))
            for (n, (type, daysAgo)) in history.events.enumerated() {
                let day = today.adding(days: -daysAgo)
                let morning = OsloTime.instant(day, hour: 10)
                _ = try await pathways.record(
                    courseId: courseId, type: type, date: day, unit: nil, nprCode: nil, actor: "demo", at: morning)
                _ = try await SchedulerPass(store: store, scheduleProtocol: runtime.scheduleProtocol).run(now: morning)
                guard n < history.health.count, let course = try await store.course(courseId) else { continue }
                let last = n == history.events.count - 1
                for invitation in course.invitations where [.invited, .reminded].contains(invitation.state) {
                    let responses = try invitation.instruments.compactMap { id in
                        try runtime.catalogue.instrument(id).map {
                            try Self.response($0, health: history.health[n], worstMood: last && history.worstMood)
                        }
                    }
                    try await store.submit(
                        invitationId: invitation.id, responses: responses, respondent: "patient", language: "nb",
                        at: OsloTime.instant(day.adding(days: 2), hour: 18))
                    answered += 1
                }
            }
        }
        return answered
    }

    /// Answers that fit `health`: each RAND-36 item the option whose scored value is nearest it, EQ-5D levels and
    /// VAS from it, other questions the middle of their range.
    static func response(_ instrument: Instrument, health: Double, worstMood: Bool) throws -> SubmittedResponse {
        var answers: [(String, JSONValue)] = []
        for question in instrument.questionnaire.questions {
            let codes = question.answerOption?.compactMap { Int($0.valueCoding.code) } ?? []
            let value: Int?
            switch instrument.scoring {
            case .scaleMeans(let scoring):
                let recoded = scoring.recode[question.linkId] ?? [:]
                value = codes.min { a, b in
                    abs(NSDecimalNumber(decimal: recoded[a] ?? 0).doubleValue - health * 100)
                        < abs(NSDecimalNumber(decimal: recoded[b] ?? 0).doubleValue - health * 100)
                }
            case .eq5d(let scoring):
                if question.linkId == scoring.vasItem {
                    value = Int(20 + health * 70)
                } else if worstMood, question.linkId == "AD" {
                    value = scoring.levels.upperBound
                } else {
                    let span = Double(scoring.levels.upperBound - scoring.levels.lowerBound)
                    value = scoring.levels.lowerBound + Int(((1 - health) * span).rounded())
                }
            case .indicators:
                if !codes.isEmpty {
                    value = codes[codes.count / 2]
                } else if question.type == .integer {
                    value = question.minValue ?? 0
                } else {
                    value = nil
                }
            }
            if let value { answers.append((question.linkId, .int(value))) }
        }
        let json = JSONValue.object(answers)
        let checked = try instrument.checkAnswers(json)
        return SubmittedResponse(
            instrument: instrument.id, instrumentVersion: instrument.questionnaire.version, answersJSON: json.serialized,
            scores: try instrument.score(checked).stored, safetyItems: instrument.safetyFlags(checked).map(\.item))
    }
}
