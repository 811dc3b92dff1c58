import Foundation
import PostgresNIO
import SvarDomain
import SvarStore
import SvarTestSupport
import Testing

@testable import SvarPostgres

/// Every query a worker repeats over the big tables, and the per-row look-ups of the clinicians' lists, is served by
/// an index: with sequential scans priced out (`enable_seqscan = off`), a plan that still reads a whole table has no
/// index to use. The plans are printed (docs/postgresql.md shows them).
@Suite(.enabled(if: PostgresTestDatabase.url != nil, "SVAR_TEST_POSTGRES_URL is not set"))
struct WorkerQueryPlanTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let queries: [(String, PostgresQuery)] = [
        ("scheduler: expire", WorkerQuery.expiring(now: now, limit: 500)),
        ("scheduler: open", WorkerQuery.opening(now: now, limit: 500)),
        ("scheduler: remind", WorkerQuery.reminding(now: now, limit: 500)),
        (
            "scheduler: nudge",
            WorkerQuery.nudging(milestone: "evaluation", afterDays: 90, after: "2026-08-01", through: "2026-09-01", at: now)
        ),
        (
            "scheduler: nudge, one range of a catch-up",
            WorkerQuery.nudging(
                milestone: "evaluation", afterDays: 90, after: "", through: "2026-09-01", courses: CourseIdRange(from: "4", before: "8"),
                at: now)
        ),
        ("delivery: claim", WorkerQuery.deliveries(kinds: ["invitation", "reminder", "code"], now: now, limit: 100)),
        ("forwarding: claim", WorkerQuery.forwards(now: now, limit: 50)),
        ("patient page: link", try! WorkerQuery.linkLookup(invitationId: "i", nonceHash: [1, 2, 3])),
        (
            "clinician: invitations",
            ClinicianListQuery.invitations(units: ["4208"], states: ["unreachable"], orVoidedLinks: true, invitationId: nil)
        ),
        ("clinician: unreachable", ClinicianListQuery.unreachable(units: ["4208"])),
    ]

    @Test(arguments: queries.map(\.0))
    func everyWorkerQueryIsServedByAnIndex(name: String) async throws {
        let store = try await PostgresTestDatabase.emptyStore()
        let query = try #require(Self.queries.first { $0.0 == name }?.1)
        let plan = try await store.transaction { tx in
            try await tx.execute("SELECT set_config('enable_seqscan', 'off', true)")
            return try await tx.rows(PostgresQuery(unsafeSQL: "EXPLAIN (COSTS OFF) " + query.sql, binds: query.binds))
                .map { try $0[0].decode(String.self) }
        }
        print("\(name):\n" + plan.map { "    " + $0 }.joined(separator: "\n"))
        #expect(!plan.isEmpty)
        #expect(!plan.contains { $0.contains("Seq Scan") }, "a table read whole:\n\(plan.joined(separator: "\n"))")
    }
}
