/// The languages a patient can answer in. Bokmål and nynorsk are equal by law (mållova); English serves
/// patients who read neither.
public enum Language: String, Codable, Sendable, CaseIterable, Comparable {
    case nb, nn, en

    private var rank: Int {
        switch self {
        case .nb: return 0
        case .nn: return 1
        case .en: return 2
        }
    }

    public static func < (lhs: Language, rhs: Language) -> Bool { lhs.rank < rhs.rank }
}
