import Crypto
import Foundation
import GRDB
import SvarDomain
import SvarServices
import SvarStore
import SvarTestSupport
import Testing

@testable import SvarSQLite

/// What is particular to the SQLite file: WAL, named migrations, an append-only audit log, and no identity
/// number in clear anywhere in the file.
@Suite struct SQLiteStoreTests {
    func temporaryPath() -> String {
        ScratchFolder.file("store").path
    }

    /// A database file at the level of `upTo`, holding `rows` (inserted with foreign keys off, so each test
    /// writes only the rows it is about), then opened by the store, which applies the migrations after it.
    func migrated(upTo: String, rows: String) async throws -> DatabaseQueue {
        let path = temporaryPath()
        var configuration = Configuration()
        configuration.foreignKeysEnabled = false
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try SQLiteMigrations.migrator.migrate(queue, upTo: upTo)
        try await queue.write { try $0.execute(sql: rows) }
        try queue.close()
        _ = try SQLiteStore(path: path)
        return try DatabaseQueue(path: path)
    }

    /// The storage contract stands apart from any engine: a second implementation needs nothing of GRDB.
    @Test func theStorageContractImportsNoDatabaseLibrary() throws {
        let contract = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/SvarStore")
        let files = try FileManager.default.contentsOfDirectory(atPath: contract.path).filter { $0.hasSuffix(".swift") }
        #expect(files.contains("Store.swift"))
        for file in files {
            let text = try String(contentsOf: contract.appendingPathComponent(file), encoding: .utf8)
            for library in ["GRDB", "SQLite3", "PostgresNIO", "SQLiteNIO"] {
                #expect(!text.contains("import \(library)"), "\(file) imports \(library)")
            }
        }
    }

    @Test func theFileIsInWALModeWithNamedMigrations() async throws {
        let store = try SQLiteStore(path: temporaryPath())
        #expect(try await store.journalMode() == "wal")
        // FULL: the WAL is fsync'd at each commit, so an acknowledged submission survives a power cut. The local
        // registry store too.
        #expect(try await store.synchronousMode() == 2)
        let registry = try LocalRegistryStore(path: temporaryPath(), sealingKey: SymmetricKey(size: .bits256))
        #expect(try await registry.synchronousMode() == 2)
        let applied = try await store.appliedMigrations()
        #expect(applied == SQLiteStore.knownMigrations && applied.first == "2026-11-22-01-core")
        // Named DATE-NN-what, numbered in the order they were written.
        let numbers = applied.compactMap { name -> Int? in
            guard name.wholeMatch(of: /\d{4}-\d{2}-\d{2}-\d{2}-[a-z0-9-]+/) != nil else { return nil }
            return Int(name.split(separator: "-")[3])
        }
        #expect(numbers == Array(1...applied.count), "\(applied)")
    }

    /// Submissions commit without syncing and the WAL is synced beside the writer: the submission returns after a
    /// flush, a completed invitation's link is read only after one too (its page says the answers are in), an
    /// open invitation's link costs none, and the writer is at FULL for every other write.
    @Test func aCompletionIsReportedOnlyOnceTheWALIsFlushed() async throws {
        let store = try SQLiteStore(path: temporaryPath())
        let flush = try #require(store.submissions.flush)
        let (_, invitation) = try await invited(store)
        let nonce = Array(repeating: UInt8(3), count: 32)
        try await store.addLink(invitationId: invitation, nonceHash: nonce, expiresAt: t0 + day, actor: "t", at: t0)
        let flushes = { flush.flushes.load(ordering: .relaxed) }
        let quiet = flushes()
        let open = try #require(try await store.lookUpLink(invitationId: invitation, nonceHash: nonce))
        #expect(!open.invitation.state.isTerminal)
        #expect(flushes() == quiet)
        try await store.submit(
            invitationId: invitation,
            responses: [SubmittedResponse(instrument: "eq5d-5l", instrumentVersion: "1.0.0", answersJSON: #"{"MO":1}"#, scores: [])],
            respondent: "patient", language: "nb", at: t0 + hour)
        let submitted = flushes()
        #expect(submitted > quiet)
        #expect(try await store.lookUpLink(invitationId: invitation, nonceHash: nonce)?.invitation.state == .completed)
        #expect(flushes() > submitted)
        #expect(try await store.synchronousMode() == 2)
    }

    /// Deleted rows are overwritten and the WAL emptied: an erased identity is in neither file afterwards.
    @Test func erasedDataDoesNotLingerInTheFileOrTheWAL() async throws {
        let path = temporaryPath()
        let store = try SQLiteStore(path: path)
        #expect(try await store.secureDelete() == 1)
        let marker = Array("Lingering-Name-\(UUID().uuidString)".utf8)
        // Stored in clear in a row that deletion erases: the sealed identity is opaque, so use a unit-free marker.
        try await store.createUnit(Unit(resh: "1", name: "U"), actor: "t", at: t0)
        let result = try await store.enrolPatient(
            PatientEnrolment(
                id: "p-1", language: "nb", lookupHash: Array(repeating: 9, count: 32),
                sealedIdentity: SealedIdentity(keyId: "v1", box: marker)),
            actor: "t", at: t0)
        #expect(result == .created("p-1"))
        func filesContainMarker() -> Bool {
            [path, path + "-wal"].contains { file in
                guard let data = FileManager.default.contents(atPath: file) else { return false }
                return data.range(of: Data(marker)) != nil
            }
        }
        #expect(filesContainMarker(), "the marker is on disk before the deletion (else the check proves nothing)")
        _ = try await store.deletePatientData(patientId: "p-1", actor: "t", at: t0 + 60)
        #expect(filesContainMarker() == false, "no copy left in free pages or the WAL")
        #expect((try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) == 0, "the WAL is truncated")
    }

    /// The tombstone that keeps an erased, reserved patient from being invited again holds only the month: the
    /// exact instant would tie it to the audit log's entries.
    @Test func theTombstoneKeepsOnlyTheMonth() async throws {
        let store = try SQLiteStore()
        let hash = Array(repeating: UInt8(7), count: 32)
        _ = try await store.enrolPatient(
            PatientEnrolment(
                id: "p-1", language: "nb", lookupHash: hash,
                sealedIdentity: SealedIdentity(keyId: "v1", box: [1, 2, 3])), actor: "t", at: t0)
        let reservedAt = OsloTime.instant(LocalDate(iso: "2026-11-17")!, hour: 13)
        _ = try await store.deletePatientData(patientId: "p-1", actor: "t", at: reservedAt)
        #expect(try await store.isTombstoned(lookupHash: hash))
        let again = try await store.enrolPatient(
            PatientEnrolment(
                id: "p-2", language: "nb", lookupHash: hash,
                sealedIdentity: SealedIdentity(keyId: "v1", box: [4, 5, 6])), actor: "t", at: reservedAt + 86_400)
        #expect(again == .created("p-2"))
        #expect(
            try await store.patient("p-2")?.reservedAt == OsloTime.instant(LocalDate(iso: "2026-11-01")!, hour: 0),
            "reserved again at once, dated by the month only")
    }

    @Test func reopeningAppliesNothingTwice() async throws {
        let path = temporaryPath()
        let first = try SQLiteStore(path: path)
        try await first.createUnit(Unit(resh: "1", name: "U"), actor: "t", at: t0)
        let second = try SQLiteStore(path: path)
        #expect(try await second.units().count == 1)
        #expect(try await second.appliedMigrations() == SQLiteStore.knownMigrations)
    }

    /// The nudges move into a table without a rowid, kept in key order; those raised before the move stay.
    @Test func nudgesRaisedBeforeTheMoveToAKeyOrderedTableAreKept() async throws {
        // A nudge without its course: only the nudge matters here.
        let reopened = try await migrated(
            upTo: "2026-12-06-18-nudge-watermarks",
            rows: """
                INSERT INTO clinician_nudges (course_id, milestone, due_date, created_at, resolved_at)
                VALUES ('c-1', 'evaluation', '2026-04-01', 5, NULL), ('c-2', 'evaluation', '2026-03-01', 6, 7)
                """)
        let (withoutRowID, rows, indexes) = try await reopened.read { db in
            (
                try Bool.fetchOne(db, sql: "SELECT wr FROM pragma_table_list WHERE name = 'clinician_nudges'"),
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT course_id || ' ' || milestone || ' ' || due_date || ' ' || created_at || ' ' || ifnull(resolved_at, '-')
                        FROM clinician_nudges ORDER BY course_id
                        """),
                try db.indexes(on: "clinician_nudges").map(\.name)
            )
        }
        #expect(withoutRowID == true)
        #expect(rows == ["c-1 evaluation 2026-04-01 5 -", "c-2 evaluation 2026-03-01 6 7"])
        // Re-created by the move, then dropped by `2026-12-07-20-nudges-without-open-index`: the key finds a course's open nudges.
        #expect(!indexes.contains("clinician_nudges_open"))
    }

    /// Drafts move into a table without a rowid, and two indexes change so that a submission writes fewer pages;
    /// drafts saved before the move stay, and the submission's plan still finds every row through an index
    /// (`SQLiteQueryPlanTests`).
    @Test func draftsSavedBeforeTheMoveToAKeyOrderedTableAreKept() async throws {
        // An invitation without its course and patient: only the drafts matter.
        let reopened = try await migrated(
            upTo: "2026-12-07-20-nudges-without-open-index",
            rows: """
                INSERT INTO invitations (id, course_id, patient_id, milestone, instruments, trigger_event_id, due_date, state,
                    opens_at, closes_at, created_at, updated_at)
                VALUES ('i-1', 'c-1', 'p-1', 'baseline', 'rand36,eq5d-5l', 'e-1', '2026-04-01', 'opened', 1, 2, 1, 1);
                INSERT INTO answer_drafts (invitation_id, instrument, answers, language, updated_at)
                VALUES ('i-1', 'rand36', '{"1":3}', 'nn', 5), ('i-1', 'eq5d-5l', '{"MO":1}', 'nb', 6);
                """)
        let (withoutRowID, rows, byPatient, outboxIndexes) = try await reopened.read { db in
            (
                try Bool.fetchOne(db, sql: "SELECT wr FROM pragma_table_list WHERE name = 'answer_drafts'"),
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT invitation_id || ' ' || instrument || ' ' || answers || ' ' || language || ' ' || updated_at
                        FROM answer_drafts ORDER BY instrument
                        """),
                try db.indexes(on: "invitations").first { $0.name == "invitations_patient" }?.columns,
                try db.indexes(on: "outbox").map(\.name)
            )
        }
        #expect(withoutRowID == true)
        #expect(rows == [#"i-1 eq5d-5l {"MO":1} nb 6"#, #"i-1 rand36 {"1":3} nn 5"#])
        #expect(byPatient == ["patient_id"])
        #expect(outboxIndexes.contains("outbox_queued_messages") && !outboxIndexes.contains("outbox_invitation"))
    }

    /// The links' use time, written at every submission and read nowhere, is dropped; the links themselves are kept.
    @Test func linksKeepTheirKeysWhenTheirUseTimeIsDropped() async throws {
        // A link without its invitation: only the links matter.
        let reopened = try await migrated(
            upTo: "2026-12-07-21-fewer-pages-per-submission",
            rows: """
                INSERT INTO invitation_links (nonce_hash, invitation_id, expires_at, created_at, used_at)
                VALUES (x'01', 'i-1', 10, 1, 5), (x'02', 'i-1', 20, 2, NULL);
                """)
        let (columns, rows) = try await reopened.read { db in
            (
                try db.columns(in: "invitation_links").map(\.name),
                try String.fetchAll(
                    db, sql: "SELECT hex(nonce_hash) || ' ' || invitation_id || ' ' || expires_at FROM invitation_links ORDER BY 1")
            )
        }
        #expect(columns == ["nonce_hash", "invitation_id", "expires_at", "created_at"])
        #expect(rows == ["01 i-1 10", "02 i-1 20"])
    }

    @Test func theAuditLogIsAppendOnly() async throws {
        let store = try SQLiteStore()
        try await store.createUnit(Unit(resh: "1", name: "U"), actor: "t", at: t0)
        await #expect(throws: (any Error).self) { try await store.execute(rawSQL: "UPDATE audit_log SET actor = 'x'") }
        await #expect(throws: (any Error).self) { try await store.execute(rawSQL: "DELETE FROM audit_log") }
        #expect(try await store.auditEntries(subject: "1").count == 1)
    }

    @Test func theIdentityNumberNeverAppearsInClearInTheDatabaseFile() async throws {
        let path = temporaryPath()
        let store = try SQLiteStore(path: path)
        let enrolment = Enrolment(store: store, vault: vault, mode: .test)
        let number = "02838897382"
        let result = try await enrolment.enrol(
            .init(
                identityNumber: number, name: "Kari Nordmann", email: "kari@example.org",
                mobile: "91234567", language: "nb", birthDate: "1988-03-02"),
            actor: "test", at: t0)
        guard case .created(let id) = result else {
            Issue.record("not created")
            return
        }
        try await store.createUnit(Unit(resh: "4208", name: "U"), actor: "t", at: t0)
        try await store.createCourse(NewCourse(id: "c1", patientId: id, unit: "4208", type: .D01), actor: "t", at: t0)
        try await store.checkpoint()
        var bytes = Data()
        for suffix in ["", "-wal", "-shm"] {
            if let data = FileManager.default.contents(atPath: path + suffix) { bytes.append(data) }
        }
        #expect(bytes.count > 4096)
        for needle in [number, "Kari Nordmann", "kari@example.org", "91234567", "1988-03-02"] {
            #expect(bytes.range(of: Data(needle.utf8)) == nil, "'\(needle)' is in the database file in clear")
        }
        // The sealed identity still opens with the key.
        let sealed = try #require(try await store.readIdentity(of: id, in: .everyUnit, actor: "t", purpose: "test", at: t0))
        #expect(try vault.open(sealed, patientId: id).identityNumber == number)
    }
}
