import Foundation
import GRDB
import SvarDomain
import SvarStore
import Synchronization
import Testing

@testable import SvarSQLite

/// The lists clinicians and registry staff read look up each row's details through an index: a subquery run per row
/// that reads a whole table grows with the square of the registry (every invitation of a unit times every queued
/// or sent message). Every statement the reads run is explained with `EXPLAIN QUERY PLAN`; a correlated subquery
/// may not scan.
@Suite struct SQLiteQueryPlanTests {
    /// Every SQL text the store ran, in order, once each.
    final class Statements: Sendable {
        private let seen = Mutex<[String]>([])
        func record(_ sql: String) { seen.withLock { if !$0.contains(sql) { $0.append(sql) } } }
        var all: [String] { seen.withLock { $0 } }
    }

    /// The plan of `sql` as (line, is it inside a correlated subquery), its parameters left unbound.
    static func queryPlan(_ sql: String, in db: Database) throws -> [(detail: String, correlated: Bool)] {
        let statement = try db.makeStatement(sql: "EXPLAIN QUERY PLAN " + sql)
        statement.setUncheckedArguments([])  // every parameter NULL: the plan does not depend on the values
        let rows = try Row.fetchAll(statement)
        var parents: [Int: Int] = [:]
        var details: [Int: String] = [:]
        for row in rows {
            parents[row["id"]] = row["parent"]
            details[row["id"]] = row["detail"]
        }
        return rows.map { row in
            var node: Int = row["parent"]
            var correlated = false
            while node != 0, let detail = details[node] {
                if detail.hasPrefix("CORRELATED") { correlated = true }
                node = parents[node] ?? 0
            }
            return (row["detail"], correlated)
        }
    }

    @Test func noListReadScansATablePerRow() async throws {
        let statements = Statements()
        let store = try SQLiteStore(statements: { statements.record($0) })
        let (patient, _) = try await answered(store, number: "01914796756", flagged: ["AD"], at: t0 + 2 * hour)
        _ = try await store.raiseNudges(milestone: "evaluation", afterDays: 90, today: LocalDate(iso: "2026-05-01")!, at: t0)

        let before = statements.all.count
        _ = try await store.courseSummaries(in: .everyUnit)
        _ = try await store.invitationSummaries(in: .only(["4208"]), states: nil, orVoidedLinks: false)
        _ = try await store.invitationSummaries(in: .everyUnit, states: ["unreachable"], orVoidedLinks: true)
        _ = try await store.unreachableInvitations(in: .only(["4208"]))
        _ = try await store.results(patientId: patient, in: .everyUnit)
        _ = try await store.courses(patientId: patient, in: .everyUnit)
        _ = try await store.responseFacts(in: .everyUnit, now: t0 + day)
        _ = try await store.safetyFlags(in: .everyUnit, patientId: nil, unseenOnly: true)
        _ = try await store.nudges(in: .only(["4208"]))
        let reads = statements.all.dropFirst(before).filter { $0.uppercased().hasPrefix("SELECT") || $0.uppercased().hasPrefix("WITH") }
        #expect(reads.count >= 9, "every list read ran at least one statement")

        let scans = try await store.db.read { db in
            try reads.flatMap { sql in
                try Self.queryPlan(sql, in: db).filter { $0.correlated && $0.detail.hasPrefix("SCAN") }.map { "\($0.detail) in: \(sql)" }
            }
        }
        #expect(scans.isEmpty, "a subquery reads a table whole for every row:\n\(scans.joined(separator: "\n\n"))")
    }

    /// A submission finds every row it reads or changes through an index: the group commit holds SQLite's one
    /// writer while it runs, so a table read whole there would hold every other submission up.
    @Test func aSubmissionFindsEveryRowThroughAnIndex() async throws {
        let statements = Statements()
        let recording = Atomic<Bool>(false)
        let store = try SQLiteStore(statements: { if recording.load(ordering: .relaxed) { statements.record($0) } })
        let (_, invitation) = try await invited(store)

        recording.store(true, ordering: .relaxed)
        try await store.submit(
            invitationId: invitation,
            responses: [SubmittedResponse(instrument: "rand36", instrumentVersion: "1.0.0", answersJSON: #"{"q1":1}"#, scores: [])],
            respondent: "patient", language: "nb", at: t0 + 2 * hour)
        recording.store(false, ordering: .relaxed)

        let changes = statements.all.filter { sql in ["SELECT", "UPDATE", "DELETE"].contains { sql.uppercased().hasPrefix($0) } }
        let plans = try await store.db.read { db in try changes.map { ($0, try Self.queryPlan($0, in: db).map(\.detail)) } }
        let scans = plans.flatMap { sql, plan in plan.filter { $0.hasPrefix("SCAN") }.map { "\($0) in: \(sql)" } }
        // The invitation's state read and changed, its queued messages cancelled, its drafts deleted.
        #expect(changes.count >= 4, "the submission's reads and changes were seen: \(changes)")
        #expect(scans.isEmpty, "a table read whole:\n\(scans.joined(separator: "\n\n"))")
        let outbox = try await store.db.read { db in
            try String.fetchAll(
                db, sql: "SELECT kind || ' ' || state FROM outbox WHERE invitation_id = ? ORDER BY kind", arguments: [invitation])
        }
        #expect(outbox == ["forward queued", "invitation cancelled"], "the answers go on; the invitation's message stops")
    }

    /// A submission leaves the invitation's pending reminders as they are (they read as cancelled); the reminder pass
    /// marks those that fall due cancelled, through the due index, and sends none of them.
    @Test func anEndedInvitationsRemindersAreCancelledWhenTheyFallDue() async throws {
        let statements = Statements()
        let recording = Atomic<Bool>(false)
        let store = try SQLiteStore(statements: { if recording.load(ordering: .relaxed) { statements.record($0) } })
        let patient = try await enrol(store)
        let plans = [plan("baseline", trigger: "x", opens: t0, closes: t0 + 21 * day, reminders: [t0 + 7 * day, t0 + 18 * day])]
        let (course, _) = try await startCourse(store, patient: patient, plans: plans)
        _ = try await store.openDue(now: t0 + hour, limit: 10)
        let invitation = try #require(try await store.course(course)?.invitations.first?.id)
        try await store.submit(
            invitationId: invitation,
            responses: [SubmittedResponse(instrument: "eq5d-5l", instrumentVersion: "1.0.0", answersJSON: #"{"MO":1}"#, scores: [])],
            respondent: "patient", language: "nb", at: t0 + 2 * hour)
        let stored = {
            try await store.db.read { db in
                try String.fetchAll(db, sql: "SELECT state FROM reminders WHERE invitation_id = ? ORDER BY seq", arguments: [invitation])
            }
        }
        #expect(try await stored() == ["pending", "pending"])
        #expect(try await store.invitation(invitation)?.reminders.map(\.state) == [.cancelled, .cancelled])

        recording.store(true, ordering: .relaxed)
        #expect(try await store.remindDue(now: t0 + 8 * day, limit: 10) == 0)
        recording.store(false, ordering: .relaxed)
        #expect(try await stored() == ["cancelled", "pending"])
        #expect(try await store.remindDue(now: t0 + 19 * day, limit: 10) == 0)
        #expect(try await stored() == ["cancelled", "cancelled"])
        #expect(try await store.outbox(patientId: patient).filter { $0.kind == .reminder }.isEmpty)

        let cancel = try #require(statements.all.first { $0.uppercased().hasPrefix("UPDATE REMINDERS") })
        let plan = try await store.db.read { db in try Self.queryPlan(cancel, in: db).map(\.detail) }
        #expect(plan.contains { $0.contains("reminders_due") }, "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN") }, "\(plan)")
    }
}
