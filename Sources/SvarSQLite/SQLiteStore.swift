import Foundation
import GRDB
import SvarDomain
import SvarStore

/// The embedded default store: one SQLite file in WAL mode, foreign keys on, through GRDB.
public final class SQLiteStore: Store {
    let db: any DatabaseWriter
    /// Patient submissions, committed in groups.
    let submissions: GroupCommit
    /// Copies the WAL into the database file off the writer's path (nil for an in-memory database).
    let checkpoints: BackgroundCheckpoint?

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try Self.prepareForScale(db)
            try Self.prepareForErasure(db)
        }
        let pool = try MigrationLock.whileHeld(beside: path) {
            let pool = try DatabasePool(path: path, configuration: configuration)
            try Self.prepareForDurability(pool)
            try SQLiteMigrations.migrator.migrate(pool)
            return pool
        }
        let checkpoints = try BackgroundCheckpoint(path: path, configuration: configuration)
        pool.writeWithoutTransaction { checkpoints.install(on: $0) }
        db = pool
        submissions = GroupCommit(writer: pool, flush: WALFlush(databasePath: path))
        self.checkpoints = checkpoints
    }

    /// A private in-memory database, for tests. `statements` sees the SQL text of every statement run (with `?`
    /// where values are bound, never the values): the query plan tests explain each one.
    public init(inMemory: Void = (), statements: (@Sendable (String) -> Void)? = nil) throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            try Self.prepareForErasure(db)
            if let statements {
                db.trace(options: .statement) { event in
                    if case .statement(let statement) = event { statements(statement.sql) }
                }
            }
        }
        let queue = try DatabaseQueue(configuration: configuration)
        db = queue
        submissions = GroupCommit(writer: queue)
        checkpoints = nil
        try SQLiteMigrations.migrator.migrate(queue)
    }

    /// A transaction is on disk before its commit returns: the WAL is fsync'd at every commit, so a patient
    /// told "your answers are in" (the 303 after a submission) keeps them through a power cut, not only
    /// through a crash of the process. One `fdatasync` is a fraction of a millisecond on the disks we measured.
    /// Set on the pool's one writer after it opened: GRDB sets `NORMAL` when it turns WAL mode on.
    static func prepareForDurability(_ pool: DatabasePool) throws {
        try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
    }

    /// `PRAGMA synchronous` as in force on the writer (2: FULL).
    public func synchronousMode() async throws -> Int { try await Self.synchronousMode(of: db) }

    static func synchronousMode(of writer: any DatabaseWriter) async throws -> Int {
        try await writer.write { try Int.fetchOne($0, sql: "PRAGMA synchronous") ?? 0 }
    }

    /// The scheduler's catch-up over a million courses was bound by page reads through the default 2 MB page
    /// cache (a `pread` per B-tree page); a 64 MB cache per connection and temporary tables in memory keep the
    /// working set of its indexes in the process.
    static func prepareForScale(_ db: Database) throws {
        try db.execute(sql: "PRAGMA cache_size = -65536")
        try db.execute(sql: "PRAGMA temp_store = MEMORY")
    }

    /// Deleted rows are overwritten, not just unlinked (whatever the SQLite build's default), so an erased
    /// patient's data does not linger in free pages.
    static func prepareForErasure(_ db: Database) throws {
        try db.execute(sql: "PRAGMA secure_delete = ON")
    }

    /// Copies the WAL into the database file and empties it, so erased pages do not linger there either.
    func checkpointAfterErasure() async throws {
        try await db.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
    }

    /// `PRAGMA secure_delete` as in force on a connection (1: on).
    public func secureDelete() async throws -> Int {
        try await db.read { try Int.fetchOne($0, sql: "PRAGMA secure_delete") ?? 0 }
    }

    /// The journal mode in force (WAL for a file database).
    public func journalMode() async throws -> String {
        try await db.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") ?? "" }
    }

    public func appliedMigrations() async throws -> [String] {
        try await db.read { try SQLiteMigrations.migrator.appliedMigrations($0) }
    }

    /// Every migration this version of Svar knows, in the order it applies them.
    public static var knownMigrations: [String] { SQLiteMigrations.migrator.migrations }

    /// The migrations applied to the file at `path`, read without changing it (empty for no file yet).
    public static func appliedMigrations(readingOnly path: String) throws -> [String] {
        try MigrationStatus.applied(path: path, migrator: SQLiteMigrations.migrator)
    }

    // MARK: Units

    public func createUnit(_ unit: SvarStore.Unit, actor: String, at: Date) async throws {
        try await db.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM units WHERE resh = ?", arguments: [unit.resh]) == true {
                throw StoreError.conflict(field: "resh", reason: "unit \(unit.resh) exists already")
            }
            if let parent = unit.parent, try Bool.fetchOne(db, sql: "SELECT 1 FROM units WHERE resh = ?", arguments: [parent]) != true {
                throw StoreError.notFound(what: "parent unit", id: parent)
            }
            try db.execute(
                sql: "INSERT INTO units (resh, name, parent, created_at) VALUES (?, ?, ?, ?)",
                arguments: [unit.resh, unit.name, unit.parent, at.seconds])
            try Self.audit(db, AuditEntry(at: at, actor: actor, action: "unit.create", subject: unit.resh))
        }
    }

    public func units() async throws -> [SvarStore.Unit] {
        try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT resh, name, parent FROM units ORDER BY resh").map {
                Unit(resh: $0["resh"], name: $0["name"], parent: $0["parent"])
            }
        }
    }

    // MARK: Patients

    public func enrolPatient(_ enrolment: PatientEnrolment, actor: String, at: Date) async throws -> EnrolmentResult {
        try await db.write { db in
            if let existing = try String.fetchOne(
                db, sql: "SELECT patient_id FROM identity_vault WHERE lookup_hash = ?",
                arguments: [Data(enrolment.lookupHash)])
            {
                return .existing(existing)
            }
            let tombstoned = try Int64.fetchOne(
                db, sql: "SELECT reserved_at FROM reservation_tombstones WHERE lookup_hash = ?",
                arguments: [Data(enrolment.lookupHash)])
            try db.execute(
                sql: "INSERT INTO patients (id, language, created_at, reserved_at) VALUES (?, ?, ?, ?)",
                arguments: [enrolment.id, enrolment.language, at.seconds, tombstoned])
            try db.execute(
                sql: "INSERT INTO identity_vault (patient_id, lookup_hash, key_id, sealed) VALUES (?, ?, ?, ?)",
                arguments: [enrolment.id, Data(enrolment.lookupHash), enrolment.sealedIdentity.keyId, Data(enrolment.sealedIdentity.box)])
            for unit in enrolment.units.sorted() {
                try Self.saveUnitIdentity(db, patientId: enrolment.id, unit: unit, sealed: enrolment.sealedIdentity, at: at)
            }
            try Self.audit(
                db,
                AuditEntry(
                    at: at, actor: actor, action: "patient.enrol", subject: enrolment.id,
                    detail: tombstoned == nil ? "" : "earlier reservation applies"))
            return .created(enrolment.id)
        }
    }

    public func patient(_ id: String) async throws -> PatientRecord? {
        try await db.read { try Self.patient(in: $0, id: id) }
    }

    static func patient(in db: Database, id: String) throws -> PatientRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM patients WHERE id = ?"), arguments: [id]).map {
            PatientRecord(
                id: $0["id"], language: $0["language"], createdAt: Date(seconds: $0["created_at"]),
                reservedAt: ($0["reserved_at"] as Int64?).map(Date.init(seconds:)),
                deletionRequestedAt: ($0["deletion_requested_at"] as Int64?).map(Date.init(seconds:)))
        }
    }

    public func readIdentity(of patientId: String, in scope: Scope, actor: String, purpose: String, at: Date) async throws
        -> SealedIdentity?
    {
        guard let (filter, units) = Self.unitClause(scope, column: "unit") else { return nil }
        return try await db.write { db in
            if scope.units != nil {
                guard
                    try Bool.fetchOne(
                        db, sql: "SELECT 1 FROM courses WHERE patient_id = ?\(filter) LIMIT 1",
                        arguments: StatementArguments([patientId] + units)) == true
                else { return nil }
            }
            let unitRow =
                scope.units == nil
                ? nil
                : try Row.fetchOne(
                    db,
                    sql: """
                        SELECT key_id, sealed FROM unit_identities WHERE patient_id = ?\(filter) ORDER BY updated_at DESC, unit LIMIT 1
                        """, arguments: StatementArguments([patientId] + units))
            guard
                let row = try unitRow
                    ?? Row.fetchOne(
                        db, sql: "SELECT key_id, sealed FROM identity_vault WHERE patient_id = ?",
                        arguments: [patientId])
            else {
                return nil
            }
            try Self.audit(db, AuditEntry(at: at, actor: actor, action: "identity.read", subject: patientId, detail: purpose))
            let sealed: Data = row["sealed"]
            return SealedIdentity(keyId: row["key_id"], box: [UInt8](sealed))
        }
    }

    public func recordUnitIdentity(
        patientId: String, units: Set<String>, actor: String, at: Date,
        merge: @Sendable (SealedIdentity?) throws -> SealedIdentity
    ) async throws {
        try await db.write { db in
            guard try Self.patient(in: db, id: patientId) != nil else { throw StoreError.notFound(what: "patient", id: patientId) }
            for unit in units.sorted() {
                let current = try Row.fetchOne(
                    db, sql: "SELECT key_id, sealed FROM unit_identities WHERE patient_id = ? AND unit = ?",
                    arguments: [patientId, unit]
                ).map { row -> SealedIdentity in
                    let sealed: Data = row["sealed"]
                    return SealedIdentity(keyId: row["key_id"], box: [UInt8](sealed))
                }
                try Self.saveUnitIdentity(db, patientId: patientId, unit: unit, sealed: try merge(current), at: at)
                try Self.audit(
                    db, AuditEntry(at: at, actor: actor, action: "identity.register", subject: patientId, detail: "unit \(unit)"))
            }
        }
    }

    static func saveUnitIdentity(_ db: Database, patientId: String, unit: String, sealed: SealedIdentity, at: Date) throws {
        try db.execute(
            sql: """
                INSERT INTO unit_identities (patient_id, unit, key_id, sealed, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (patient_id, unit) DO UPDATE SET key_id = excluded.key_id, sealed = excluded.sealed, updated_at =
                    excluded.updated_at
                """, arguments: [patientId, unit, sealed.keyId, Data(sealed.box), at.seconds])
    }

    public func isTombstoned(lookupHash: [UInt8]) async throws -> Bool {
        try await db.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM reservation_tombstones WHERE lookup_hash = ?", arguments: [Data(lookupHash)]) == true
        }
    }

    // MARK: Reservation and deletion

    public func reserve(patientId: String, countingIn scope: Scope, actor: String, at: Date) async throws -> Int {
        try await db.write { db in try Self.reserve(db, patientId: patientId, countingIn: scope, actor: actor, at: at) }
    }

    static func reserve(_ db: Database, patientId: String, countingIn scope: Scope = .everyUnit, actor: String, at: Date) throws -> Int {
        guard let patient = try Self.patient(in: db, id: patientId) else { throw StoreError.notFound(what: "patient", id: patientId) }
        if patient.reservedAt == nil {
            try db.execute(sql: "UPDATE patients SET reserved_at = ? WHERE id = ?", arguments: [at.seconds, patientId])
        }
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO reservation_tombstones (lookup_hash, reserved_at)
                SELECT lookup_hash, ? FROM identity_vault WHERE patient_id = ?
                """, arguments: [Self.tombstoneMonth(at).seconds, patientId])
        let pending = try Row.fetchAll(
            db,
            sql: """
                SELECT i.id, c.unit FROM invitations i JOIN courses c ON c.id = i.course_id
                WHERE i.patient_id = ? AND i.state IN \(Self.pendingStates)
                """, arguments: [patientId]
        ).map { (id: $0["id"] as String, unit: $0["unit"] as String) }
        for (id, _) in pending {
            try Self.transition(
                db, invitationId: id, to: .cancelled, cause: "reservation", actor: actor, at: at, cancelReason: .reservation)
        }
        try db.execute(
            sql:
                "UPDATE outbox SET state = 'cancelled', last_error = 'patient reserved', updated_at = ? WHERE patient_id = ? AND "
                + "state = 'queued' AND kind != 'erase'",
            arguments: [at.seconds, patientId])
        try Self.audit(
            db,
            AuditEntry(
                at: at, actor: actor, action: "patient.reserve", subject: patientId,
                detail: "\(pending.count) pending invitation(s) cancelled"))
        return pending.filter { scope.covers(unit: $0.unit) }.count
    }

    /// The tombstone keeps only the month of the reservation: the exact instant would link it to the audit log.
    static func tombstoneMonth(_ at: Date) -> Date {
        let day = OsloTime.date(of: at)
        return LocalDate(year: day.year, month: day.month, day: 1).map { OsloTime.instant($0, hour: 0) } ?? at
    }

    // MARK: Audit, outbox, nudges

    static func audit(_ db: Database, _ entry: AuditEntry) throws {
        try db.execute(
            sql: "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
            arguments: [entry.at.seconds, entry.actor, entry.action, entry.subject, entry.detail])
    }

    public func auditEntries(subject: String) async throws -> [AuditEntry] {
        try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_log WHERE subject = ? ORDER BY id", arguments: [subject]).map {
                AuditEntry(
                    at: Date(seconds: $0["at"]), actor: $0["actor"], action: $0["action"], subject: $0["subject"], detail: $0["detail"])
            }
        }
    }

    static func enqueue(
        _ db: Database, kind: OutboxKind, patientId: String, invitationId: String?, key: String, payload: OutboxPayload, at: Date,
        responseId: String? = nil
    ) throws {
        try enqueue(
            db,
            [
                QueuedMessage(
                    kind: kind, patientId: patientId, invitationId: invitationId, key: key, payload: payload, responseId: responseId)
            ],
            at: at)
    }

    /// A message for the outbox, queued with others in one statement.
    struct QueuedMessage {
        let kind: OutboxKind
        let patientId: String
        let invitationId: String?
        let key: String
        let payload: OutboxPayload
        let responseId: String?
    }

    /// Queues `messages` in one statement (a message whose key is queued already is left as it is).
    static func enqueue(_ db: Database, _ messages: [QueuedMessage], at: Date) throws {
        guard !messages.isEmpty else { return }
        var arguments = StatementArguments()
        for message in messages {
            arguments += [
                RecordId.make(), message.kind.rawValue, message.patientId, message.invitationId, message.key, try message.payload.json(),
                at.seconds, at.seconds, at.seconds, message.responseId,
            ]
        }
        try db.cachedStatement(
            sql: """
                INSERT OR IGNORE INTO outbox (id, kind, patient_id, invitation_id, idempotency_key, payload, state, attempts,
                    next_attempt_at, created_at, updated_at, response_id)
                VALUES \(rows("(?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?)", count: messages.count))
                """
        ).execute(arguments: arguments)
    }

    /// The VALUES list of a statement that inserts `count` rows at once: a submission's rows go in a few statements
    /// instead of one each, and the one writer runs each statement's overhead once.
    static func rows(_ row: String, count: Int) -> String {
        repeatElement(row, count: count).joined(separator: ", ")
    }

    public func outbox(patientId: String) async throws -> [OutboxItem] {
        try await db.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM outbox WHERE patient_id = ? ORDER BY created_at, idempotency_key", arguments: [patientId]
            ).map { try Self.outboxItem($0) }
        }
    }

    public func nudges(in scope: Scope) async throws -> [ClinicianNudge] {
        guard let (filter, values) = Self.unitClause(scope) else { return [] }
        return try await db.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT n.*, c.patient_id, c.unit FROM clinician_nudges n JOIN courses c ON c.id = n.course_id
                    WHERE n.resolved_at IS NULL\(filter) ORDER BY n.due_date, n.course_id, n.milestone
                    """, arguments: StatementArguments(values)
            ).map {
                ClinicianNudge(
                    courseId: $0["course_id"], milestone: $0["milestone"], dueDate: try $0.date("due_date", in: "clinician_nudges"),
                    createdAt: Date(seconds: $0["created_at"]), patientId: $0["patient_id"], unit: $0["unit"])
            }
        }
    }

    // MARK: Links

    public func signingKeys() async throws -> [StoredSigningKey] {
        try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM signing_keys ORDER BY id").map {
                let sealed: Data = $0["sealed"]
                return StoredSigningKey(
                    id: UInt32(truncatingIfNeeded: $0["id"] as Int64), createdAt: Date(seconds: $0["created_at"]),
                    sealed: SealedIdentity(keyId: $0["key_id"], box: [UInt8](sealed)),
                    retiredAt: ($0["retired_at"] as Int64?).map(Date.init(seconds:)))
            }
        }
    }

    public func retireSigningKey(id: UInt32, actor: String, at: Date) async throws {
        try await db.write { db in
            try db.execute(
                sql: "UPDATE signing_keys SET retired_at = ? WHERE id = ? AND retired_at IS NULL", arguments: [at.seconds, Int64(id)])
            guard db.changesCount == 1 else { throw StoreError.notFound(what: "signing key in use", id: String(id)) }
            try Self.audit(db, AuditEntry(at: at, actor: actor, action: "key.retire", subject: "signing key \(id)"))
        }
    }

    public func addSigningKey(_ key: StoredSigningKey) async throws {
        try await db.write { db in
            try db.execute(
                sql: "INSERT INTO signing_keys (id, created_at, key_id, sealed) VALUES (?, ?, ?, ?)",
                arguments: [Int64(key.id), key.createdAt.seconds, key.sealed.keyId, Data(key.sealed.box)])
        }
    }

    public func addLink(invitationId: String, nonceHash: [UInt8], expiresAt: Date, actor: String, at: Date) async throws {
        try await db.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT patient_id, state FROM invitations WHERE id = ?", arguments: [invitationId])
            else {
                throw StoreError.notFound(what: "invitation", id: invitationId)
            }
            let state: InvitationState = try row.strict("state", in: "invitations")
            guard !state.isTerminal else {
                throw StoreError.conflict(field: "state", reason: "the invitation is \(state.rawValue); no new link can be made")
            }
            try db.execute(
                sql: "INSERT INTO invitation_links (nonce_hash, invitation_id, expires_at, created_at) VALUES (?, ?, ?, ?)",
                arguments: [Data(nonceHash), invitationId, expiresAt.seconds, at.seconds])
            try Self.audit(
                db,
                AuditEntry(
                    at: at, actor: actor, action: "invitation.link", subject: row["patient_id"],
                    detail: "invitation \(invitationId)"))
        }
    }

    static let pendingStates = "(" + InvitationState.pending.map { "'\($0.rawValue)'" }.joined(separator: ", ") + ")"
}

extension Date {
    var seconds: Int64 { Int64(timeIntervalSince1970.rounded(.down)) }
    init(seconds: Int64) { self.init(timeIntervalSince1970: TimeInterval(seconds)) }
}

extension SQLiteStore {
    /// Runs raw SQL — for tests and maintenance only; never with values from a request.
    public func execute(rawSQL sql: String) async throws {
        try await db.write { try $0.execute(sql: sql) }
    }

    /// Moves the WAL into the main file (so a test can inspect one file).
    public func checkpoint() async throws {
        _ = try await db.writeWithoutTransaction { try $0.checkpoint(.truncate) }
    }
}

extension SQLiteStore {
    /// The payload of an outbox item (what the notifier will send) — for operations and tests.
    public func outboxPayload(id: String) async throws -> String? {
        try await db.read { try String.fetchOne($0, sql: "SELECT payload FROM outbox WHERE id = ?", arguments: [id]) }
    }
}

extension SQLiteStore {
    /// Outbox items of one kind, oldest first — for operations and tests.
    public func outboxItems(kind: OutboxKind) async throws -> [OutboxItem] {
        try await db.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM outbox WHERE kind = ? ORDER BY created_at, idempotency_key", arguments: [kind.rawValue]
            ).map { try Self.outboxItem($0) }
        }
    }
}
