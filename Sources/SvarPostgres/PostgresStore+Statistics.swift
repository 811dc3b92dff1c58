import PostgresNIO
import SvarStore

/// Raw figures of one unit and milestone, before any suppression: never printed as they are (§ 4-3); the
/// statistics report decides what may be shown.
extension PostgresStore {
    /// States an invitation only reaches after the patient was asked (from `invited` on; `expired` and
    /// `cancelled` also follow `scheduled`, so they alone do not count).
    static let askedStates = ["invited", "reminded", "opened", "completed", "declined", "unreachable"]

    /// Per unit (the course's) and milestone: invitations ever sent and completed, and the numeric scores of
    /// the completed ones. Patients who reserved or asked for deletion are left out: their processing stops (§ 3-3).
    public func statisticsInput() async throws -> StatisticsInput {
        try await transaction { tx in
            let cells = try await tx.rows(
                """
                SELECT c.unit, u.name, i.milestone, COUNT(*) AS invited, COUNT(*) FILTER (WHERE i.state = 'completed') AS answered
                FROM invitations i
                JOIN courses c ON c.id = i.course_id
                JOIN units u ON u.resh = c.unit
                JOIN patients p ON p.id = i.patient_id
                WHERE p.reserved_at IS NULL AND p.deletion_requested_at IS NULL
                  AND EXISTS (SELECT 1 FROM invitation_history h WHERE h.invitation_id = i.id AND h.to_state = ANY(\(Self.askedStates)))
                GROUP BY c.unit, u.name, i.milestone
                ORDER BY c.unit, i.milestone
                """
            ).map {
                StatisticsCellCounts(
                    unit: try $0.decode("unit"), unitName: try $0.decode("name"), milestone: try $0.decode("milestone"),
                    invited: try $0.decode("invited"), answered: try $0.decode("answered"))
            }
            var scores: [StatisticsScoreValues] = []
            for row in try await tx.rows(
                """
                SELECT c.unit, i.milestone, r.instrument, s.key, s.value_set, s.number
                FROM scores s
                JOIN responses r ON r.id = s.response_id
                JOIN invitations i ON i.id = r.invitation_id
                JOIN courses c ON c.id = i.course_id
                JOIN patients p ON p.id = i.patient_id
                WHERE i.state = 'completed' AND s.number IS NOT NULL
                  AND p.reserved_at IS NULL AND p.deletion_requested_at IS NULL
                ORDER BY c.unit, i.milestone, r.instrument, s.key, s.value_set NULLS FIRST
                """)
            {
                let value = StatisticsScoreValues(
                    unit: try row.decode("unit"), milestone: try row.decode("milestone"),
                    instrument: try row.decode("instrument"), key: try row.decode("key"),
                    valueSet: try row.decode("value_set"), numbers: [try row.decode("number")])
                if let last = scores.last, last.unit == value.unit, last.milestone == value.milestone, last.instrument == value.instrument,
                    last.key == value.key, last.valueSet == value.valueSet
                {
                    scores[scores.count - 1].numbers.append(contentsOf: value.numbers)
                } else {
                    scores.append(value)
                }
            }
            return StatisticsInput(cells: cells, scores: scores)
        }
    }
}
