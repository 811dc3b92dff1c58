import Foundation

/// The JSON shape of a score as `svar score` prints it (a contract other tools depend on).
///
/// - rand36: one key per scale (number or null), `itemsAnswered` and `halfRuleMet` per scale;
/// - eq5d-*: `state`, `index` (unrounded), `indexRounded` (3 dp), `valueSet`, `vas`;
/// - indicator forms: one key per indicator (number, true/false or null).
public enum ScoreReport {
    public static func json(_ score: Score, instrument: Instrument) -> JSONValue {
        switch instrument.scoring {
        case .scaleMeans(let scoring):
            var members: [(String, JSONValue)] = score.values.map { ($0.key, number($0.number)) }
            members.append(("itemsAnswered", .object(score.values.map { ($0.key, .int($0.itemsAnswered ?? 0)) })))
            members.append(("halfRuleMet", .object(scoring.scales.map { ($0.id, .bool(scoring.halfRuleMet(score, scale: $0))) })))
            return .object(members)
        case .eq5d(let scoring):
            let index = score.value("index")?.number
            let levels = scoring.dimensions.map { score.value($0)?.number }
            let state: JSONValue =
                levels.contains(nil)
                ? .null
                : .string(levels.compactMap { $0.map { ExactNumber.text($0) } }.joined())
            return .object([
                ("state", state),
                ("index", number(index)),
                ("indexRounded", index.map { .number(ExactNumber.text($0, places: 3)) } ?? .null),
                ("valueSet", score.valueSet.map(JSONValue.string) ?? .null),
                ("vas", number(score.value("vas")?.number)),
            ])
        case .indicators:
            return .object(
                score.values.map { value in
                    if let flag = value.flag { return (value.key, .bool(flag)) }
                    return (value.key, number(value.number))
                })
        }
    }

    static func number(_ value: Decimal?) -> JSONValue {
        value.map { .number(ExactNumber.text($0)) } ?? .null
    }
}
