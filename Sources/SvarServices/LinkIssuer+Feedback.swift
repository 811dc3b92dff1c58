import Crypto
import Foundation
import SvarDomain

extension LinkIssuer {
    /// A short-lived proof, for the browser that just submitted, that the thank-you page may show this
    /// invitation's results once. It is signed for its own purpose (`feedback:`), so it can never pass as the
    /// second factor's proof, and it holds no score: the page reads those from the store.
    public func feedbackProof(invitationId: String, until: Date) -> String {
        proof(for: "feedback", invitationId: invitationId, until: until)
    }

    public func verifyFeedbackProof(_ proof: String, invitationId: String, now: Date) -> Bool {
        verify(proof, for: "feedback", invitationId: invitationId, now: now)
    }
}
