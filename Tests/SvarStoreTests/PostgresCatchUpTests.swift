import Foundation
import PostgresNIO
import SvarDomain
import SvarStore
import SvarTestSupport
import Testing

@testable import SvarPostgres

/// A large nudge catch-up on PostgreSQL is written through two connections, a range of course ids each: every
/// nudge must still be raised once, and a range that went in before the other failed must not come twice.
@Suite(.enabled(if: PostgresTestDatabase.url != nil, "SVAR_TEST_POSTGRES_URL is not set"))
struct PostgresCatchUpTests {
    static let today = LocalDate(iso: "2026-05-01")!

    /// Six patients, a course each, every one overdue for its evaluation on `today`; their course ids in order.
    func sixOverdueCourses(_ store: PostgresStore) async throws -> [String] {
        var courses: [String] = []
        for n in 0..<6 {
            let patient = try await enrol(store, number: "0191479675\(n)")
            courses.append(try await startCourse(store, patient: patient).course)
        }
        return courses.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    func raise(_ store: PostgresStore, cuts: [String]) async throws -> Int {
        try await store.raiseNudges(milestone: "evaluation", afterDays: 90, today: Self.today, at: t0) { _, _, _ in
            CourseIdRange.ranges(sampled: 1_000_000, percent: 100, cuts: cuts)
        }
    }

    @Test func aCatchUpInTwoRangesRaisesEveryNudgeOnce() async throws {
        let store = try await PostgresTestDatabase.emptyStore()
        let courses = try await sixOverdueCourses(store)
        #expect(try await raise(store, cuts: [courses[3]]) == 6)
        #expect(try await store.nudges().map(\.courseId).sorted() == courses.sorted())
        #expect(try await raise(store, cuts: [courses[3]]) == 0, "the watermark moved past them")
    }

    @Test func aRangeInBeforeTheOtherFailedIsNotRaisedAgain() async throws {
        let store = try await PostgresTestDatabase.emptyStore()
        let courses = try await sixOverdueCourses(store)
        // The second range committed; the first (on the connection that moves the watermark) did not.
        let second = try await store.raiseNudges(milestone: "evaluation", afterDays: 90, today: Self.today, at: t0) { _, _, _ in
            [CourseIdRange(from: courses[3], before: nil)]
        }
        #expect(second == 3)
        try await store.transaction { tx in try await tx.execute("DELETE FROM nudge_watermarks") }
        #expect(try await store.raiseNudges(milestone: "evaluation", afterDays: 90, today: Self.today, at: t0) == 3)
        #expect(try await store.nudges().map(\.courseId).sorted() == courses.sorted())
    }

    @Test func aDayOfNudgesStaysOneRangeAndALargeCatchUpIsCutWhereTheSampleSays() {
        #expect(CourseIdRange.ranges(sampled: 40, percent: 1, cuts: ["8"]) == [.all])
        #expect(
            CourseIdRange.ranges(sampled: 7_000, percent: 1, cuts: ["4", "8", "8"]) == [
                CourseIdRange(from: "", before: "4"), CourseIdRange(from: "4", before: "8"), CourseIdRange(from: "8", before: nil),
            ])
        #expect(CourseIdRange.ranges(sampled: 7_000, percent: 1, cuts: []) == [.all])
    }

    @Test func aStoreWritesThroughNoMoreConnectionsThanItsPoolHas() {
        #expect(PostgresStore.catchUpWriters(poolSize: 1) == 1)
        #expect(PostgresStore.catchUpWriters(poolSize: 2) == 2)
        #expect(PostgresStore.catchUpWriters(poolSize: 10) == 2)
    }
}
