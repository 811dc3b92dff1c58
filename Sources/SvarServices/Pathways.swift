import Foundation
import SvarDomain
import SvarStore

/// Records pathway events and lets the protocol turn them into invitations, in the same transaction.
public struct Pathways: Sendable {
    let store: any Store
    public let scheduleProtocol: ScheduleProtocol

    public init(store: any Store, scheduleProtocol: ScheduleProtocol) {
        self.store = store
        self.scheduleProtocol = scheduleProtocol
    }

    public func record(
        courseId: String, type: PathwayEventType, date: LocalDate, unit: String?, nprCode: String?,
        actor: String, at: Date
    ) async throws -> CourseRecord {
        guard let course = try await store.course(courseId) else { throw StoreError.notFound(what: "course", id: courseId) }
        if type == .transfer, unit == nil {
            throw InputProblem(field: "unit", reason: "a transfer needs the RESH-id of the receiving unit")
        }
        let event = PathwayEvent(
            id: RecordId.make(), type: type, date: date, unit: unit ?? course.unit,
            nprCode: nprCode, recordedBy: actor)
        let today = OsloTime.date(of: at)
        let planner = scheduleProtocol
        let restarting = scheduleProtocol.nudgeCountsRestarted(by: type)
        return try await store.recordEvent(courseId: courseId, event: event, restartingNudges: restarting, at: at) { current, patient in
            try PathwayRules.check(event, after: current.events, today: today)
            return patient.isReserved ? [] : planner.plans(for: event, after: current.events)
        }
    }
}

/// One pass of the scheduler: expire, open, remind in bounded batches; then nudge, one set-based statement per
/// milestone over the counts that came due since the last pass.
public struct SchedulerPass: Sendable {
    let store: any Store
    let scheduleProtocol: ScheduleProtocol
    let batchSize: Int

    public init(store: any Store, scheduleProtocol: ScheduleProtocol, batchSize: Int = 500) {
        self.store = store
        self.scheduleProtocol = scheduleProtocol
        self.batchSize = batchSize
    }

    public func run(now: Date) async throws -> TickReport {
        var report = TickReport()
        while true {
            let n = try await store.expireDue(now: now, limit: batchSize)
            report.expired += n
            if n < batchSize { break }
        }
        while true {
            let (invited, stale) = try await store.openDue(now: now, limit: batchSize)
            report.invited += invited
            report.cancelledReminders += stale
            if invited < batchSize { break }
        }
        while true {
            let n = try await store.remindDue(now: now, limit: batchSize)
            report.reminded += n
            if n < batchSize { break }
        }
        for rule in scheduleProtocol.nudgeRules {
            _ = try await store.prepareNudges(milestone: rule.milestone, countsFrom: rule.countsFrom)
            report.nudges += try await store.raiseNudges(
                milestone: rule.milestone, afterDays: rule.afterDays, today: OsloTime.date(of: now), at: now)
        }
        return report
    }
}
