import Foundation
import Hummingbird
import SvarDomain
import SvarServices
import SvarStore

/// `/oversikt`: per unit and milestone, how many patients were due a questionnaire and what became of each, by
/// channel and by reminders, with the median days to an answer. The terms are defined in `ResponseOverview` and
/// explained on the page itself; small cells follow `svar report`.
extension ClinicianController {
    /// The terms the page explains, in the order of the main table's columns: (column label key, definition key).
    static let overviewTerms = [
        ("colEligible", "termEligible"), ("colInvited", "termInvited"), ("colAnswered", "termAnswered"), ("colExpired", "termExpired"),
        ("colNotReached", "termNotReached"), ("colReserved", "termReserved"), ("colDeclined", "termDeclined"),
        ("colAwaiting", "termAwaiting"), ("colRate", "termRate"), ("colMedianDays", "termMedianDays"), ("colChannel", "termChannel"),
        ("colRemindersSent", "termReminders"),
    ]

    func dashboard(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (clinician, csrf) = try context.session()
        let facts = try await access.responseFacts(for: .clinician(clinician), now: services.now())
        let overview = try ResponseOverview(facts, minCell: StatisticsReport.defaultMinCell)
        let t = pages.clinicianTexts(for: clinician)
        let small = "<\(overview.minCell)"
        func shown(_ count: ResponseOverview.Count?) -> String {
            switch count {
            case .shown(let n): return "\(n)"
            case .small: return small
            case .withheld, nil: return "–"
            }
        }
        func percent(_ rate: Decimal?) -> String {
            rate.map { "\(Int((NSDecimalNumber(decimal: $0).doubleValue * 100).rounded())) %" } ?? "–"
        }
        func days(_ median: Decimal?) -> String {
            median.map { "\($0)".replacingOccurrences(of: ".", with: t["chartDecimalSeparator"]) } ?? "–"
        }
        func place(_ row: ResponseOverview.Row) -> [String: Any] {
            ["unit": "\(row.unitName) (\(row.unit))", "milestone": services.milestoneLabel(row.milestone, t.language)]
        }
        func parts(_ row: ResponseOverview.Row, _ parts: [ResponseOverview.Part], label: (String) -> String) -> [[String: Any]] {
            parts.map { part in
                place(row).merging([
                    "key": label(part.key), "eligible": shown(part.eligible), "answered": shown(part.answered), "rate": percent(part.rate),
                ]) { _, new in new }
            }
        }
        let rows = overview.rows.map { row -> [String: Any] in
            var view = place(row)
            view["eligible"] = shown(row.eligible)
            view["invited"] = shown(row.invited)
            for outcome in ResponseOverview.Outcome.allCases { view[outcome.rawValue] = shown(row.outcomes[outcome]) }
            view["rate"] = percent(row.rate)
            view["medianDays"] = days(row.medianDaysToAnswer)
            return view
        }
        return pages.clinicianPage(
            "clinician-dashboard", title: t["navDashboard"],
            context: [
                "hasRows": !overview.rows.isEmpty, "rows": rows,
                "terms": Self.overviewTerms.map { ["term": t[$0.0], "definition": t[$0.1]] },
                "smallCells": t("dashboardSmallCells", ["below": String(overview.minCell - 1), "minCell": String(overview.minCell)]),
                "channels": overview.rows.flatMap { parts($0, $0.byChannel) { t.channel($0) } },
                "reminders": overview.rows.flatMap { parts($0, $0.byReminders) { $0 } },
            ], clinician: clinician, csrf: csrf, back: "/oversikt", notice: SavedNotice.shown(in: request))
    }
}

extension ClinicianTexts {
    /// `email`, `sms`, or `none` (nothing delivered) in words; another channel by its name.
    func channel(_ raw: String) -> String {
        switch raw {
        case "email": return self["channelEmail"]
        case "sms": return self["channelSms"]
        case "none": return self["channelNone"]
        default: return raw
        }
    }
}
