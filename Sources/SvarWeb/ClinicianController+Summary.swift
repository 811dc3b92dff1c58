import Foundation
import SvarDomain
import SvarInstruments
import SvarStore

/// The top of a patient's page: per instrument, each score from the first answer to the latest, the change,
/// and whether it is larger than the minimal important difference (with its source), the better way round.
extension ClinicianController {
    func changeSummaries(_ results: [ResultRecord], _ t: ClinicianTexts) -> [[String: Any]] {
        instrumentsInProtocolOrder(results).compactMap { instrument in
            let points = results.filter { $0.instrument == instrument.id }.map { r in
                ScoredTimePoint(
                    at: r.submittedAt, milestone: r.milestone,
                    values: Dictionary(
                        r.scores.map { s in
                            (s.key, ScoredValue(number: s.number.flatMap(ExactNumber.decimal), flag: s.flag, valueSet: s.valueSet))
                        },
                        uniquingKeysWith: { first, _ in first }))
            }
            let changes = instrument.changes(points)
            guard !changes.isEmpty else { return nil }
            let title = instrument.texts[t.language]?.title ?? instrument.texts[.nb]?.title ?? instrument.id
            return [
                "caption": t("summaryCaption", ["instrument": title, "count": String(points.count)]),
                "rows": changes.map { summaryRow($0, instrument, t) },
            ]
        }
    }

    /// The instruments the patient answered, in the order the protocol asks for them, then any others.
    func instrumentsInProtocolOrder(_ results: [ResultRecord]) -> [Instrument] {
        var seen = Set<String>()
        let protocolOrder = services.pathways.scheduleProtocol.milestones.flatMap(\.instruments)
        let answered = Set(results.map(\.instrument))
        return (protocolOrder + results.map(\.instrument)).filter { answered.contains($0) && seen.insert($0).inserted }
            .compactMap { services.catalogue.instrument($0) }
    }

    private func summaryRow(_ change: ScoreChange, _ instrument: Instrument, _ t: ClinicianTexts) -> [String: Any] {
        let places = instrument.places(change.key)
        func shown(_ value: ScoredValue) -> String {
            value.number.map { t.number($0, places: places) } ?? value.flag.map { $0 ? t["yes"] : t["no"] } ?? "–"
        }
        func when(_ point: ScoredTimePoint) -> String { "\(services.milestoneLabel(point.milestone, t.language)), \(t.date(point.at))" }
        let isFlag = change.first.value.number == nil
        let direction: String =
            switch (change.better, isFlag) {
            case (.higher?, false): t["higherIsBetter"]
            case (.lower?, false): t["lowerIsBetter"]
            case (.higher?, true): t["yesIsBetter"]
            case (.lower?, true): t["noIsBetter"]
            case (nil, _): ""
            }
        var row: [String: Any] = [
            "label": instrument.scoreLabel(change.key, t.language), "direction": direction,
            "first": shown(change.first.value), "firstWhen": when(change.first.point),
            "verdict": t("verdict_\(change.verdict.rawValue)"), "verdictClass": change.verdict.rawValue,
        ]
        if let latest = change.latest {
            row["latest"] = shown(latest.value)
            row["latestWhen"] = when(latest.point)
        }
        if let delta = change.change { row["change"] = t.number(delta, places: places, signed: true) }
        if let mid = change.difference {
            row["mid"] = t("midNote", ["value": t.number(mid.value, places: max(places, 1)), "source": mid.shortSource])
            row["midSource"] = mid.source
        }
        return row
    }
}

extension ClinicianTexts {
    /// A number the reader's way: `0,853` in Norwegian, `0.853` in English, a true minus sign, and `+` on a
    /// positive change when `signed`.
    func number(_ value: Decimal, places: Int, signed: Bool = false) -> String {
        let text = ExactNumber.text(value < 0 ? -value : value, places: places)
        let local = self["chartDecimalSeparator"] == "," ? text.replacingOccurrences(of: ".", with: ",") : text
        let isZero = Decimal(string: text) == 0
        if value < 0, !isZero { return "−" + local }
        return signed && !isZero ? "+" + local : local
    }
}
