/// Who filled in a questionnaire, as the person answering says on the landing page. A registry reads answers given
/// with help or by someone else (a guardian or helper) differently, so the choice is stored with the response,
/// forwarded in the FHIR QuestionnaireResponse (`source`, and an extension with this code) and exported.
public enum Respondent: String, Sendable, CaseIterable, Equatable {
    /// The patient, alone.
    case patient
    /// The patient, with someone helping (reading aloud, holding the phone).
    case patientWithHelp
    /// Someone answering for the patient: a guardian, relative or helper.
    case proxy
    /// Not said: the form was reached without the landing page's question (an old draft, a bookmark to a step).
    case notStated
}
