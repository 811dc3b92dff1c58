/// Where one invitation (one questionnaire set, one patient, one milestone) stands.
///
/// Every change is stored with its time and cause; terminal states never change again.
public enum InvitationState: String, Sendable, Codable, CaseIterable {
    case scheduled, invited, reminded, opened, completed, expired, declined, unreachable, cancelled

    public var isTerminal: Bool {
        switch self {
        case .completed, .expired, .declined, .cancelled: return true
        default: return false
        }
    }

    /// States in which reminders may still go out.
    public var acceptsReminders: Bool { self == .invited || self == .reminded || self == .opened }

    /// The legal moves (docs/domain.md): scheduled → invited → reminded(n) → opened → completed, or an ending.
    public func canMove(to next: InvitationState) -> Bool {
        switch (self, next) {
        case (.scheduled, .invited), (.scheduled, .opened), (.scheduled, .completed),
            (.scheduled, .expired), (.scheduled, .cancelled):
            return true
        case (.invited, .reminded), (.invited, .opened), (.invited, .completed), (.invited, .expired),
            (.invited, .declined), (.invited, .unreachable), (.invited, .cancelled):
            return true
        case (.reminded, .reminded), (.reminded, .opened), (.reminded, .completed), (.reminded, .expired),
            (.reminded, .declined), (.reminded, .unreachable), (.reminded, .cancelled):
            return true
        case (.opened, .reminded), (.opened, .completed), (.opened, .expired), (.opened, .declined), (.opened, .cancelled):
            return true
        case (.unreachable, .opened), (.unreachable, .completed), (.unreachable, .expired),
            (.unreachable, .declined), (.unreachable, .cancelled):
            return true
        default:
            return false
        }
    }

    /// The states a pending invitation can be in (everything a reservation or an expiry must end).
    public static let pending: [InvitationState] = allCases.filter { !$0.isTerminal }
}

public enum CancelReason: String, Sendable, Codable, CaseIterable {
    case reservation, death, newCourse, duplicate, clinician
}

public struct IllegalTransition: Error, Sendable, Equatable, CustomStringConvertible {
    public let from: InvitationState
    public let to: InvitationState
    public init(from: InvitationState, to: InvitationState) {
        self.from = from
        self.to = to
    }
    public var description: String { "an invitation cannot go from \(from.rawValue) to \(to.rawValue)" }
}

extension InvitationState {
    /// `next`, if the move is legal.
    public func moved(to next: InvitationState) throws(IllegalTransition) -> InvitationState {
        guard canMove(to: next) else { throw IllegalTransition(from: self, to: next) }
        return next
    }
}
