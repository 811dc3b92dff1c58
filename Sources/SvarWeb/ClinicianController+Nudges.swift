import Foundation
import SvarDomain
import SvarStore

/// Courses with no evaluation for longer than the protocol allows (its `nudgeAfterDays`): on the start page and the
/// follow-up list, so a clinician sees them without the API. A nudge goes when the event is recorded.
extension ClinicianController {
    /// At most this many are listed on a page; the count says how many there are in all.
    static let nudgesShown = 50

    /// The page context of the nudges section: empty for roles that do not treat patients.
    func nudgeSection(_ clinician: Clinician, _ t: ClinicianTexts) async throws -> [String: Any] {
        guard clinician.role.treatsPatients else { return ["hasNudges": false] }
        let nudges = try await access.nudges(for: .clinician(clinician))
        let rows = nudges.prefix(Self.nudgesShown).map { nudge -> [String: Any] in
            var row: [String: Any] = [
                "patient": String(nudge.patientId.prefix(8)), "unit": nudge.unit,
                "text": t("nudgeText", ["milestone": services.milestoneLabel(nudge.milestone, t.language), "date": t.date(nudge.dueDate)]),
            ]
            if clinician.role.seesResults { row["patientURL"] = "/pasient/\(nudge.patientId)" }
            return row
        }
        return [
            "hasNudges": !rows.isEmpty, "nudges": rows, "nudgesTruncated": nudges.count > rows.count,
            "nudgeCount": t("nudgeCount", ["count": "\(nudges.count)", "shown": "\(rows.count)"]),
        ]
    }
}
