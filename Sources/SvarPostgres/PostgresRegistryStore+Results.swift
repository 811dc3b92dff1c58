import Foundation
import PostgresNIO
import SvarRegistry
import SvarStore

extension PostgresRegistryStore {
    /// Stores one response with its scores (and the sealed number, when the submission carries it). Idempotent per
    /// response id: a second submission answers "already held" and changes nothing, as on SQLite.
    public func submit(_ submission: RegistrySubmission) async -> ForwardOutcome {
        do {
            let identity = try submission.identity.map {
                try RegistryStoreRules.seal($0.value, pseudonym: submission.pseudonym, key: sealingKey)
            }
            return try await transaction { tx in
                let r = submission.response
                try await tx.lockPatient(submission.pseudonym)
                if try await tx.exists("SELECT 1 FROM erasures WHERE pseudonym = \(submission.pseudonym)") {
                    return RegistryStoreRules.erasedPatient
                }
                let inserted = try await tx.count(
                    """
                    INSERT INTO results (response_id, pseudonym, unit, milestone, instrument, instrument_version, language, respondent,
                        submitted_at, received_at, answers, bundle)
                    VALUES (\(r.responseId), \(submission.pseudonym), \(r.unit), \(r.milestone), \(r.instrument), \(r.instrumentVersion),
                        \(r.language), \(r.respondent), \(Int64(r.submittedAt.timeIntervalSince1970)),
                        \(Int64(Date().timeIntervalSince1970)), \(r.answersJSON), \(submission.bundle))
                    ON CONFLICT (response_id) DO NOTHING RETURNING 1
                    """)
                guard inserted == 1 else { return RegistryStoreRules.alreadyHeld(r.responseId) }
                for score in r.scores {
                    try await tx.execute(
                        """
                        INSERT INTO result_scores (response_id, key, number, flag, items_answered, items_in_scale, algorithm, value_set)
                        VALUES (\(r.responseId), \(score.key), \(score.number), \(score.flag), \(score.itemsAnswered),
                            \(score.itemsInScale), \(score.algorithm), \(score.valueSet))
                        """)
                }
                if let identity, let system = submission.identity?.system {
                    try await tx.execute(
                        """
                        INSERT INTO identity_vault (pseudonym, system, sealed)
                        VALUES (\(submission.pseudonym), \(system), \(Data(identity)))
                        ON CONFLICT (pseudonym) DO NOTHING
                        """)
                }
                return RegistryStoreRules.stored(r)
            }
        } catch {
            return RegistryStoreRules.unavailable(error)
        }
    }

    /// Erases one pseudonym's results, scores and sealed identity, records the erasure (later submissions for it
    /// are refused) and reports the exports that already held the patient as kept. Then asks PostgreSQL to reclaim
    /// the dead rows (see `reclaimErasedSpace`).
    public func erase(pseudonym: String, at: Date) async throws -> ErasureReport {
        let report = try await transaction { tx in
            try await tx.lockPatient(pseudonym)
            let results = try await tx.count("DELETE FROM results WHERE pseudonym = \(pseudonym) RETURNING 1")
            let identities = try await tx.count("DELETE FROM identity_vault WHERE pseudonym = \(pseudonym) RETURNING 1")
            var report = ErasureReport(erased: RegistryStoreRules.erased(results: results, identities: identities))
            for row in try await tx.rows(
                """
                SELECT e.id, e.at, e.format FROM exports e JOIN export_members m ON m.export_id = e.id WHERE m.pseudonym = \(pseudonym)
                ORDER BY e.at, e.id
                """)
            {
                report.kept.append(
                    RegistryStoreRules.keptExport(id: try row.decode("id"), format: try row.decode("format"), at: try row.date("at")))
            }
            try await tx.execute(
                """
                INSERT INTO erasures (pseudonym, at, erased, kept)
                VALUES (\(pseudonym), \(Int64(at.timeIntervalSince1970)), \(report.erased.joined(separator: "\n")),
                    \(report.kept.joined(separator: "\n")))
                ON CONFLICT (pseudonym) DO UPDATE SET at = EXCLUDED.at, erased = EXCLUDED.erased, kept = EXCLUDED.kept
                """)
            return report
        }
        await reclaimErasedSpace()
        return report
    }

    /// PostgreSQL has no `secure_delete`: a deleted row stays in its page as a dead tuple until VACUUM removes it
    /// (and in the WAL and backups until they are recycled). VACUUM cannot run in a transaction, so it runs here
    /// on its own, best effort: it needs the tables' owner and skips a table another VACUUM holds; a failure is
    /// logged, not thrown (the erasure is done and recorded). Autovacuum must stay on (docs/operations.md).
    func reclaimErasedSpace() async {
        let tables = ["results", "result_scores", "identity_vault"].map { "\(schema).\($0)" }.joined(separator: ", ")
        do {
            try await client.withConnection { connection in
                _ = try await connection.query(PostgresQuery(unsafeSQL: "VACUUM (SKIP_LOCKED) \(tables)"), logger: logger).collect()
            }
        } catch {
            logger.warning("registry store: VACUUM after an erasure failed (\(type(of: error))); autovacuum will reclaim the rows")
        }
    }
}

extension Transaction {
    /// A submission and an erasure of the same patient take turns (on SQLite the single writer does this), so a
    /// result cannot slip in after its patient was erased.
    func lockPatient(_ pseudonym: String) async throws {
        try await execute("SELECT pg_advisory_xact_lock(\(PostgresRegistrySchema.lockKey), hashtext(\(pseudonym)))")
    }
}
