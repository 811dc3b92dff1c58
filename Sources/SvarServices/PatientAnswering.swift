import Crypto
import Foundation
import SvarDomain
import SvarInstruments
import SvarRegistry
import SvarStore

/// The patient's side of an invitation: open a link, answer step by step (saved as drafts, so a patient can
/// stop and resume), review, submit. Submission validates, scores and stores everything in one transaction.
public struct PatientAnswering: Sendable {
    public struct Step: Sendable {
        public let number: Int
        public let instrument: Instrument
        public let group: Questionnaire.Item
        public var questions: [Questionnaire.Item] { (group.item ?? []).filter { $0.type.takesAnswer } }
    }

    public struct Session: Sendable {
        public let invitation: LinkedInvitation
        public let patientLanguage: Language
        public let steps: [Step]
        /// Draft answers per instrument.
        public let drafts: [String: [String: Int]]
        /// Paradata already recorded: the steps shown and saved at least once.
        public var stepsShown: Set<Int> = []
        public var stepsSaved: Set<Int> = []
    }

    public enum Opening: Sendable {
        case ready(Session)
        /// A link that did not open; the calm pages after it speak the patient's language where the invitation is
        /// known (nil: only the link's signature was read, so the page asks the query or falls back to bokmål).
        case invalid
        case expired(Language?)
        case answered(Language)
        case closed(Language)
        /// The patient said no to this questionnaire: the link says so again, not that it expired.
        case declined(Language)
    }

    public enum Submission: Sendable {
        case done
        case alreadyAnswered
        case missing([(step: Int, linkId: String)])
    }

    let store: any Store
    let links: LinkIssuer
    let catalogue: InstrumentCatalogue
    let vault: IdentityVault
    public let secondFactor: ScheduleProtocol.SecondFactor
    /// The steps of each combination of instruments met so far (every page view needs them; the catalogue is
    /// fixed for the life of the process).
    let stepsByInstruments = Memo<[String], [Step]>()

    public init(
        store: any Store, links: LinkIssuer, catalogue: InstrumentCatalogue, vault: IdentityVault,
        secondFactor: ScheduleProtocol.SecondFactor
    ) {
        self.store = store
        self.links = links
        self.catalogue = catalogue
        self.vault = vault
        self.secondFactor = secondFactor
    }

    public func factorState(_ session: Session, now: Date) async throws -> FactorState {
        try await store.factorState(invitationId: session.invitation.id, now: now)
    }

    /// Checks the birth date the patient typed (31.01.1980, 31011980 or 1980-01-31) against the vault.
    public func checkBirthDate(_ session: Session, input: String, now: Date) async throws -> FactorState {
        let given = Self.parseBirthDate(input)
        let id = session.invitation.patientId
        let vault = vault
        return try await store.attemptFactor(invitationId: session.invitation.id, at: now, policy: FactorPolicy(), readsIdentity: true) {
            evidence in
            let stored = evidence.sealedIdentity.flatMap { try? vault.open($0, patientId: id) }?.birthDate.flatMap(LocalDate.init(iso:))
            return given != nil && given == stored
        }
    }

    /// Sends a new six-digit code through the outbox (kept only as a hash here); valid for 15 minutes.
    public func sendCode(_ session: Session, now: Date) async throws {
        var generator = SystemRandomNumberGenerator()
        let code = String(format: "%06d", Int.random(in: 0..<1_000_000, using: &generator))
        try await store.issueCode(
            invitationId: session.invitation.id, codeHash: Self.hash(code, session), expiresAt: now.addingTimeInterval(15 * 60),
            payload: OutboxPayload(invitation: session.invitation.id, code: code), at: now)
    }

    public func hasCurrentCode(_ session: Session, now: Date) async throws -> Bool {
        try await store.currentCode(invitationId: session.invitation.id, now: now) != nil
    }

    public func checkCode(_ session: Session, input: String, now: Date) async throws -> FactorState {
        let digits = input.filter(\.isNumber)
        let given = Self.hash(digits, session)
        return try await store.attemptFactor(invitationId: session.invitation.id, at: now, policy: FactorPolicy(), readsIdentity: false) {
            evidence in
            guard digits.count == 6, let expected = evidence.codeHash else { return false }
            return constantTimeEqual(given, expected)
        }
    }

    static func hash(_ code: String, _ session: Session) -> [UInt8] {
        Array(SHA256.hash(data: Array("\(session.invitation.id):\(code)".utf8)))
    }

    static func parseBirthDate(_ text: String) -> LocalDate? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let iso = LocalDate(iso: trimmed) { return iso }
        let digits = trimmed.filter(\.isNumber)
        guard digits.count == 8, let day = Int(digits.prefix(2)), let month = Int(digits.dropFirst(2).prefix(2)),
            let year = Int(digits.suffix(4))
        else { return nil }
        return LocalDate(year: year, month: month, day: day)
    }

    /// Verifies the token (signature and expiry first, before any database access), then checks the link is
    /// on record and the invitation still open.
    public func open(token: String, now: Date) async throws -> Opening {
        let verified: LinkToken
        do {
            verified = try links.verify(token, now: now)
        } catch .expired {
            return .expired(nil)
        } catch {
            return .invalid
        }
        guard
            let lookup = try await store.lookUpLink(
                invitationId: verified.invitationId.uuidString.lowercased(), nonceHash: verified.nonceHash)
        else {
            return .invalid
        }
        let invitation = lookup.invitation
        let language = Language(rawValue: lookup.language) ?? .nb
        switch invitation.state {
        case .completed: return .answered(language)
        case .expired: return .expired(language)
        case .declined: return .declined(language)
        case .cancelled: return .closed(language)
        default: break
        }
        guard invitation.closesAt > now else { return .expired(language) }
        let steps =
            stepsByInstruments.value(invitation.instruments) { Self.steps(invitation.instruments.compactMap { catalogue.instrument($0) }) }
            ?? []
        var drafts: [String: [String: Int]] = [:]
        for (instrument, json) in lookup.drafts {
            if let flat = FlatIntegerObject.parse(json) {
                drafts[instrument] = flat
                continue
            }
            guard case .object(let members)? = try? JSONParser.parse(json) else { continue }
            drafts[instrument] = Dictionary(
                members.compactMap { key, value in value.integerValue.map { (key, $0) } }, uniquingKeysWith: { a, _ in a })
        }
        return .ready(
            Session(
                invitation: invitation, patientLanguage: Language(rawValue: lookup.language) ?? .nb, steps: steps, drafts: drafts,
                stepsShown: lookup.stepsShown, stepsSaved: lookup.stepsSaved))
    }

    /// The steps of a questionnaire made of `instruments`: one per top-level group, numbered from 1.
    public static func steps(_ instruments: [Instrument]) -> [Step] {
        instruments.flatMap { instrument in
            instrument.questionnaire.item.filter { $0.type == .group }.map { (instrument, $0) }
        }.enumerated().map { Step(number: $0.offset + 1, instrument: $0.element.0, group: $0.element.1) }
    }

    /// Records the first time a step is shown (paradata; nothing is written once it has been).
    public func recordShown(_ session: Session, step: Step, now: Date) async throws {
        guard !session.stepsShown.contains(step.number) else { return }
        try await store.recordStepView(invitationId: session.invitation.id, step: step.number, saved: false, at: now)
    }

    public func markOpened(_ session: Session, now: Date) async throws {
        // Every page view lands here; once opened, there is nothing to write (and no write lock to take).
        guard session.invitation.state != .opened else { return }
        try await store.markOpened(invitationId: session.invitation.id, at: now)
    }

    /// Saves the answers of one step. Returns the problems per linkId; valid answers are saved even when another
    /// question of the step has a problem. Every answer is read by `TypedAnswer` (digits only), so nothing a
    /// patient typed is stored as a number they did not write.
    public func save(_ session: Session, step: Step, form: [String: String], language: Language, now: Date) async throws
        -> [String: AnswerProblem]
    {
        var answers = session.drafts[step.instrument.id] ?? [:]
        var problems: [String: AnswerProblem] = [:]
        for question in step.questions {
            let wrong: AnswerProblem = question.type == .integer ? .range : .invalid
            switch TypedAnswer(form[question.linkId] ?? "") {
            case .empty:
                answers[question.linkId] = nil
            case .notWhole:
                problems[question.linkId] = question.type == .integer ? .notWhole : .invalid
            case .whole(let value):
                do {
                    _ = try step.instrument.checkAnswers(.object([(question.linkId, .int(value))]))
                    answers[question.linkId] = value
                } catch {
                    problems[question.linkId] = wrong
                }
            }
        }
        let checked = Answers(instrument: step.instrument.id, checked: answers)
        for question in step.questions where question.isRequired && answers[question.linkId] == nil && problems[question.linkId] == nil {
            if step.instrument.isEnabled(question, checked) { problems[question.linkId] = .required }
        }
        let json = JSONValue.object(answers.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) }).serialized
        try await store.saveDraft(
            invitationId: session.invitation.id, instrument: step.instrument.id, answersJSON: json,
            language: language.rawValue, at: now)
        if !session.stepsSaved.contains(step.number) {
            try await store.recordStepView(invitationId: session.invitation.id, step: step.number, saved: true, at: now)
        }
        return problems
    }

    /// Checks every instrument's draft, scores it and stores the whole submission in one transaction.
    public func submit(_ session: Session, language: Language, now: Date) async throws -> Submission {
        var responses: [SubmittedResponse] = []
        var missing: [(step: Int, linkId: String)] = []
        for instrument in session.invitation.instruments.compactMap({ catalogue.instrument($0) }) {
            let draft = session.drafts[instrument.id] ?? [:]
            let drafted = JSONValue.object(draft.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })
            let answers = instrument.applicable(try instrument.checkAnswers(drafted))
            let json = JSONValue.object(answers.values.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })
            for linkId in instrument.missingRequired(answers) {
                let step = session.steps.first { $0.instrument.id == instrument.id && $0.questions.contains { $0.linkId == linkId } }
                missing.append((step?.number ?? 1, linkId))
            }
            let score = try instrument.score(answers)
            responses.append(
                SubmittedResponse(
                    instrument: instrument.id, instrumentVersion: instrument.questionnaire.version, answersJSON: json.serialized,
                    scores: score.stored, safetyItems: instrument.safetyFlags(answers).map(\.item)))
        }
        guard missing.isEmpty else { return .missing(missing) }
        do {
            try await store.submit(
                invitationId: session.invitation.id, responses: responses, respondent: session.respondent.rawValue,
                language: language.rawValue, at: now)
        } catch StoreError.conflict(field: "invitation", _) {
            return .alreadyAnswered
        }
        return .done
    }
}
