import Foundation
import PostgresNIO
import SvarStore
import SvarTestSupport
import Testing

@testable import SvarPostgres

/// What only the PostgreSQL store has to show: instances starting at once, and logs the database itself keeps append-only.
@Suite(.enabled(if: PostgresTestDatabase.url != nil, "SVAR_TEST_POSTGRES_URL is not set"))
struct PostgresStoreTests {
    @Test func instancesStartingAtOnceBothComeUpOnOneSchema() async throws {
        let base = try #require(try await PostgresTestDatabase.shared?.value)
        let schema = "t_start_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        async let first = base.inSchema(schema)
        async let second = base.inSchema(schema)
        let (a, b) = try await (first, second)
        #expect(
            try await a.appliedMigrations() == [
                "2026-12-05-11-nudges-by-milestone", "2026-12-06-15-safety-flags", "2026-12-06-16-contact-notes",
                "2026-12-06-17-step-views", "2026-12-06-18-nudge-watermarks", "2026-12-07-19-step-views-collation",
                "2026-12-07-20-nudges-without-open-index", "2026-12-08-22-links-without-use-time",
            ])
        try await a.createUnit(Unit(resh: "4208", name: "A"), actor: "t", at: t0)
        #expect(try await b.units().map(\.resh) == ["4208"])
    }

    /// A reference compared under another collation than its key's cannot use the key's index: every look-up
    /// through it reads the whole table (step_views did, until `2026-12-07-19-step-views-collation`).
    @Test func everyForeignKeyColumnHasTheCollationOfItsKey() async throws {
        let store = try await PostgresTestDatabase.emptyStore()
        let mismatched = try await store.transaction { tx in
            try await tx.rows(
                """
                SELECT c.conrelid::regclass::text || '.' || a.attname AS col FROM pg_constraint c
                JOIN LATERAL unnest(c.conkey, c.confkey) AS k(own, ref) ON true
                JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.own
                JOIN pg_attribute r ON r.attrelid = c.confrelid AND r.attnum = k.ref
                WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace AND a.attcollation <> r.attcollation
                ORDER BY 1
                """
            ).map { try $0.decode("col", as: String.self) }
        }
        #expect(mismatched.isEmpty, "\(mismatched)")
    }

    @Test func theAuditAndDisclosureLogsRefuseChanges() async throws {
        let store = try await PostgresTestDatabase.emptyStore()
        try await store.createUnit(Unit(resh: "4208", name: "A"), actor: "t", at: t0)
        try await store.recordForwarded(
            forwardId: "none",
            disclosure: Disclosure(
                at: t0, recipient: "registry", subject: "p",
                identifiedBy: "identity number", dataSet: "eq5d-5l", responseId: "r", basis: "§ 4-7", receipt: "201"))
        for sql in [
            "UPDATE audit_log SET detail = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log",
            "DELETE FROM disclosure_log", "TRUNCATE disclosure_log",
        ] {
            await #expect(throws: (any Error).self, "\(sql)") { try await store.execute(rawSQL: sql) }
        }
        #expect(try await store.auditEntries(subject: "4208").map(\.action) == ["unit.create"])
        #expect(try await store.disclosures(subject: "p", limit: 10).count == 1)
    }

    @Test func aStateOutsideTheListIsRefused() async throws {
        let store = try await PostgresTestDatabase.emptyStore()
        await #expect(throws: (any Error).self) {
            try await store.execute(
                rawSQL:
                    "INSERT INTO outbox (id, kind, patient_id, idempotency_key, payload, state, next_attempt_at, created_at, updated_at) "
                    + "VALUES ('o', 'pigeon', 'p', 'k', '{}', 'queued', 0, 0, 0)"
            )
        }
    }
}
