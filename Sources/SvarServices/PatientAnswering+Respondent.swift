import Foundation
import SvarDomain
import SvarInstruments

extension PatientAnswering {
    /// The draft row that holds the landing page's answer to "who is filling this in": stored like an
    /// instrument's draft (so it is saved, resumed and erased with them) under a key no instrument id can take.
    static let respondentDraft = "@respondent"

    /// Saves who is filling in the questionnaire.
    public func saveRespondent(_ session: Session, _ respondent: Respondent, language: Language, now: Date) async throws {
        let code = Respondent.allCases.firstIndex(of: respondent).map { $0 + 1 } ?? 0
        try await store.saveDraft(
            invitationId: session.invitation.id, instrument: Self.respondentDraft, answersJSON: #"{"respondent":\#(code)}"#,
            language: language.rawValue, at: now)
    }
}

extension PatientAnswering.Session {
    /// Who the landing page was told is filling in the questionnaire; `notStated` when it was never asked.
    public var respondent: Respondent {
        guard let code = drafts[PatientAnswering.respondentDraft]?["respondent"], Respondent.allCases.indices.contains(code - 1)
        else { return .notStated }
        return Respondent.allCases[code - 1]
    }

    /// Whether the landing page's question has been answered (the answer is then shown chosen).
    public var hasRespondent: Bool { respondent != .notStated }
}
