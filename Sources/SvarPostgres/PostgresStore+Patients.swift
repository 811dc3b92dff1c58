import Foundation
import PostgresNIO
import SvarDomain
import SvarStore

extension PostgresStore {
    // MARK: Units

    public func createUnit(_ unit: SvarStore.Unit, actor: String, at: Date) async throws {
        try await transaction { tx in
            if try await tx.exists("SELECT 1 FROM units WHERE resh = \(unit.resh)") {
                throw StoreError.conflict(field: "resh", reason: "unit \(unit.resh) exists already")
            }
            if let parent = unit.parent, try await !tx.exists("SELECT 1 FROM units WHERE resh = \(parent)") {
                throw StoreError.notFound(what: "parent unit", id: parent)
            }
            try await tx.execute(
                "INSERT INTO units (resh, name, parent, created_at) VALUES (\(unit.resh), \(unit.name), \(unit.parent), \(at.seconds))")
            try await tx.audit(AuditEntry(at: at, actor: actor, action: "unit.create", subject: unit.resh))
        }
    }

    public func units() async throws -> [SvarStore.Unit] {
        try await transaction { tx in
            try await tx.rows("SELECT resh, name, parent FROM units ORDER BY resh").map {
                Unit(resh: try $0.decode("resh"), name: try $0.decode("name"), parent: try $0.decode("parent"))
            }
        }
    }

    // MARK: Patients

    public func enrolPatient(_ enrolment: PatientEnrolment, actor: String, at: Date) async throws -> EnrolmentResult {
        let hash = Data(enrolment.lookupHash)
        return try await transaction { tx in
            // Two instances enrolling the same number at once: the second waits, then finds the first's patient.
            try await tx.execute("SELECT pg_advisory_xact_lock(\(PostgresMigrations.lockKey + 1), hashtext(encode(\(hash), 'hex')))")
            if let existing = try await tx.value("SELECT patient_id FROM identity_vault WHERE lookup_hash = \(hash)", as: String.self) {
                return .existing(existing)
            }
            let tombstoned = try await tx.value(
                "SELECT reserved_at FROM reservation_tombstones WHERE lookup_hash = \(hash)", as: Int64.self)
            try await tx.execute(
                """
                INSERT INTO patients (id, language, created_at, reserved_at) VALUES (\(enrolment.id), \(enrolment.language),
                    \(at.seconds), \(tombstoned))
                """)
            try await tx.execute(
                """
                INSERT INTO identity_vault (patient_id, lookup_hash, key_id, sealed)
                VALUES (\(enrolment.id), \(hash), \(enrolment.sealedIdentity.keyId), \(Data(enrolment.sealedIdentity.box)))
                """)
            for unit in enrolment.units.sorted() {
                try await tx.saveUnitIdentity(patientId: enrolment.id, unit: unit, sealed: enrolment.sealedIdentity, at: at)
            }
            try await tx.audit(
                AuditEntry(
                    at: at, actor: actor, action: "patient.enrol", subject: enrolment.id,
                    detail: tombstoned == nil ? "" : "earlier reservation applies"))
            return .created(enrolment.id)
        }
    }

    public func patient(_ id: String) async throws -> PatientRecord? {
        try await transaction { try await $0.patient(id) }
    }

    public func readIdentity(of patientId: String, in scope: Scope, actor: String, purpose: String, at: Date) async throws
        -> SealedIdentity?
    {
        guard scope.units?.isEmpty != true else { return nil }
        let units = scope.sortedUnits
        return try await transaction { tx in
            var unitRow: PostgresRandomAccessRow?
            if let units {
                guard try await tx.exists("SELECT 1 FROM courses WHERE patient_id = \(patientId) AND unit = ANY(\(units)) LIMIT 1") else {
                    return nil
                }
                unitRow = try await tx.row(
                    """
                    SELECT key_id, sealed FROM unit_identities WHERE patient_id = \(patientId) AND unit = ANY(\(units))
                    ORDER BY updated_at DESC, unit LIMIT 1
                    """)
            }
            let vaultRow =
                unitRow == nil ? try await tx.row("SELECT key_id, sealed FROM identity_vault WHERE patient_id = \(patientId)") : nil
            guard let row = unitRow ?? vaultRow else { return nil }
            try await tx.audit(AuditEntry(at: at, actor: actor, action: "identity.read", subject: patientId, detail: purpose))
            return try row.sealed()
        }
    }

    public func recordUnitIdentity(
        patientId: String, units: Set<String>, actor: String, at: Date,
        merge: @Sendable (SealedIdentity?) throws -> SealedIdentity
    ) async throws {
        try await transaction { tx in
            guard try await tx.patient(patientId, locking: true) != nil else { throw StoreError.notFound(what: "patient", id: patientId) }
            for unit in units.sorted() {
                let current = try await tx.row(
                    """
                    SELECT key_id, sealed FROM unit_identities WHERE patient_id = \(patientId) AND unit = \(unit) FOR UPDATE
                    """
                ).map { try $0.sealed() }
                try await tx.saveUnitIdentity(patientId: patientId, unit: unit, sealed: try merge(current), at: at)
                try await tx.audit(
                    AuditEntry(at: at, actor: actor, action: "identity.register", subject: patientId, detail: "unit \(unit)"))
            }
        }
    }

    public func isTombstoned(lookupHash: [UInt8]) async throws -> Bool {
        try await transaction { tx in
            try await tx.exists("SELECT 1 FROM reservation_tombstones WHERE lookup_hash = \(Data(lookupHash))")
        }
    }

    // MARK: Reservation

    public func reserve(patientId: String, countingIn scope: Scope, actor: String, at: Date) async throws -> Int {
        try await transaction { tx in try await tx.reserve(patientId: patientId, countingIn: scope, actor: actor, at: at) }
    }
}

extension Transaction {
    /// The patient row; `locking` holds it until the transaction ends (reservation and deletion change it).
    func patient(_ id: String, locking: Bool = false) async throws -> PatientRecord? {
        let lock = locking ? " FOR UPDATE" : ""
        return try await row("SELECT * FROM patients WHERE id = \(id)\(unescaped: lock)").map {
            PatientRecord(
                id: try $0.decode("id"), language: try $0.decode("language"), createdAt: try $0.date("created_at"),
                reservedAt: try $0.optionalDate("reserved_at"), deletionRequestedAt: try $0.optionalDate("deletion_requested_at"))
        }
    }

    func saveUnitIdentity(patientId: String, unit: String, sealed: SealedIdentity, at: Date) async throws {
        try await execute(
            """
            INSERT INTO unit_identities (patient_id, unit, key_id, sealed, updated_at)
            VALUES (\(patientId), \(unit), \(sealed.keyId), \(Data(sealed.box)), \(at.seconds))
            ON CONFLICT (patient_id, unit) DO UPDATE SET key_id = excluded.key_id, sealed = excluded.sealed,
                updated_at = excluded.updated_at
            """)
    }

    func reserve(patientId: String, countingIn scope: Scope = .everyUnit, actor: String, at: Date) async throws -> Int {
        guard let patient = try await patient(patientId, locking: true) else { throw StoreError.notFound(what: "patient", id: patientId) }
        if patient.reservedAt == nil {
            try await execute("UPDATE patients SET reserved_at = \(at.seconds) WHERE id = \(patientId)")
        }
        try await execute(
            """
            INSERT INTO reservation_tombstones (lookup_hash, reserved_at)
            SELECT lookup_hash, \(PostgresStore.tombstoneMonth(at).seconds) FROM identity_vault WHERE patient_id = \(patientId)
            ON CONFLICT DO NOTHING
            """)
        let pending = try await rows(
            """
            SELECT i.id, c.unit FROM invitations i JOIN courses c ON c.id = i.course_id
            WHERE i.patient_id = \(patientId) AND i.state = ANY(\(PostgresStore.pendingStates)) ORDER BY i.id
            """
        ).map { (id: try $0.decode("id", as: String.self), unit: try $0.decode("unit", as: String.self)) }
        for (id, _) in pending {
            try await transition(invitationId: id, to: .cancelled, cause: "reservation", actor: actor, at: at, cancelReason: .reservation)
        }
        try await execute(
            """
            UPDATE outbox SET state = 'cancelled', last_error = 'patient reserved', updated_at = \(at.seconds)
            WHERE patient_id = \(patientId) AND state = 'queued' AND kind != 'erase'
            """)
        try await audit(
            AuditEntry(
                at: at, actor: actor, action: "patient.reserve", subject: patientId,
                detail: "\(pending.count) pending invitation(s) cancelled"))
        return pending.filter { scope.covers(unit: $0.unit) }.count
    }
}

extension PostgresStore {
    /// The tombstone keeps only the month of the reservation: the exact instant would link it to the audit log.
    static func tombstoneMonth(_ at: Date) -> Date {
        let day = OsloTime.date(of: at)
        return LocalDate(year: day.year, month: day.month, day: 1).map { OsloTime.instant($0, hour: 0) } ?? at
    }

    static let pendingStates = InvitationState.pending.map(\.rawValue)
}
