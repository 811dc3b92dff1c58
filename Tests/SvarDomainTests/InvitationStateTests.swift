import SvarDomain
import Testing

@Suite struct InvitationStateTests {
    /// The complete table of legal moves; every other pair must be refused.
    static let legal: Set<String> = [
        "scheduled>invited", "scheduled>opened", "scheduled>completed", "scheduled>expired", "scheduled>cancelled",
        "invited>reminded", "invited>opened", "invited>completed", "invited>expired", "invited>declined",
        "invited>unreachable", "invited>cancelled",
        "reminded>reminded", "reminded>opened", "reminded>completed", "reminded>expired", "reminded>declined",
        "reminded>unreachable", "reminded>cancelled",
        "opened>reminded", "opened>completed", "opened>expired", "opened>declined", "opened>cancelled",
        "unreachable>opened", "unreachable>completed", "unreachable>expired", "unreachable>declined", "unreachable>cancelled",
    ]

    @Test(arguments: InvitationState.allCases, InvitationState.allCases)
    func everyTransitionIsLegalOrRefused(_ from: InvitationState, _ to: InvitationState) {
        let key = "\(from.rawValue)>\(to.rawValue)"
        #expect(from.canMove(to: to) == Self.legal.contains(key), "\(key)")
        if Self.legal.contains(key) {
            #expect(throws: Never.self) { try from.moved(to: to) }
        } else {
            #expect(throws: IllegalTransition(from: from, to: to)) { try from.moved(to: to) }
        }
    }

    @Test func terminalStatesNeverMove() {
        for state in InvitationState.allCases where state.isTerminal {
            #expect(InvitationState.allCases.allSatisfy { !state.canMove(to: $0) }, "\(state)")
        }
        #expect(Set(InvitationState.pending) == [.scheduled, .invited, .reminded, .opened, .unreachable])
    }
}
