import SvarInstruments

extension PatientAnswering.Session {
    /// The questions the patient answers, across all instruments (what the time estimate counts).
    public var itemCount: Int { steps.reduce(0) { $0 + $1.questions.count } }

    /// Whether anything has been saved yet (the landing page then offers to continue instead of starting).
    public var hasDraft: Bool { drafts.contains { $0.key != PatientAnswering.respondentDraft && !$0.value.isEmpty } }

    /// The first step not yet answered, where a returning patient continues: one with no answer at all, or with
    /// a required question (that applies) still open. Nil when every step is answered (continue at the review).
    /// A step of only optional questions that the patient left with at least one answer counts as answered, so
    /// a deliberately skipped question does not send them back to it every time.
    public var resumeStep: Int? {
        steps.first { step in
            let draft = drafts[step.instrument.id] ?? [:]
            let checked = Answers(instrument: step.instrument.id, checked: draft)
            let questions = step.questions.filter { step.instrument.isEnabled($0, checked) }
            let none = !questions.contains { draft[$0.linkId] != nil }
            let requiredOpen = questions.contains { $0.isRequired && draft[$0.linkId] == nil }
            return !questions.isEmpty && (none || requiredOpen)
        }?.number
    }
}
