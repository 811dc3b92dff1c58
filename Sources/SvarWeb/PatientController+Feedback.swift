import Foundation
import Hummingbird
import SvarDomain
import SvarInstruments
import SvarServices

/// Patient feedback (issue 15 item 6, `"patientFeedback": true` in the protocol): the thank-you page right after
/// submitting shows the patient their own 0–100 scores in plain words, beside the Norwegian population norm where
/// one is on file. Only once: the submission sets a short-lived cookie signed for that invitation, the thank-you
/// page clears it as it shows the results, and nothing else (the "already answered" page, a later visit to the
/// link) ever reads them. The cookie holds no score; the page reads them from the store.
extension PatientController {
    static let feedbackCookie = "svar_feedback"
    /// Long enough to follow the redirect on a slow phone, short enough that a shared device does not keep it.
    static let feedbackSeconds = 600

    /// The submission's redirect, with the one-time cookie when the protocol shows feedback.
    func withFeedbackCookie(_ response: Response, _ session: PatientAnswering.Session, _ request: Request) -> Response {
        guard services.patientFeedback else { return response }
        var response = response
        let until = services.now().addingTimeInterval(TimeInterval(Self.feedbackSeconds))
        let proof = services.links.feedbackProof(invitationId: session.invitation.id, until: until)
        response.setCookie(services.cookies.make(Self.feedbackCookie, proof, maxAge: Self.feedbackSeconds, path: base(request)))
        return response
    }

    /// The cookie that ends the feedback: the thank-you page sets it whenever the request carried one.
    func feedbackCleared(_ request: Request) -> Cookie? {
        guard request.cookies[Self.feedbackCookie] != nil else { return nil }
        return services.cookies.make(Self.feedbackCookie, "", maxAge: 0, path: base(request))
    }

    /// The lines to show on this thank-you page; empty unless the protocol shows feedback and the request
    /// carries a valid one-time cookie for this link's invitation.
    func feedbackLines(_ request: Request, _ context: AppRequestContext, _ language: Language) async throws -> [String] {
        let now = services.now()
        guard services.patientFeedback, let proof = request.cookies[Self.feedbackCookie]?.value,
            let link = try? services.links.verify(token(context), now: now)
        else { return [] }
        let invitationId = link.invitationId.uuidString.lowercased()
        guard services.links.verifyFeedbackProof(proof, invitationId: invitationId, now: now) else { return [] }
        let pages = services.pages
        return try await services.store.responses(invitationId: invitationId).flatMap { response -> [String] in
            guard let instrument = services.catalogue.instrument(response.instrument) else { return [] }
            let numbers = Dictionary(
                response.scores.compactMap { score in score.number.flatMap(Double.init).map { (score.key, $0) } },
                uniquingKeysWith: { first, _ in first })
            let norms = services.norms?.instrument == instrument.id ? services.norms : nil
            return Self.feedbackScores(instrument).compactMap { key -> String? in
                guard let value = numbers[key] else { return nil }
                // The patient's own words for the score where the text pack has them ("Lite smerter"), else its name.
                let plainKey = "feedback.\(instrument.id).\(key)"
                let plain = pages.text(plainKey, language)
                let label = plain != plainKey ? plain : instrument.reading.labels[key]?[language] ?? key
                var line = pages.text("feedbackLine", language)
                    .replacingOccurrences(of: "{score}", with: String(Int(value.rounded())))
                if let mean = norms?.mean(key) {
                    line += " " + pages.text("feedbackNorm", language).replacingOccurrences(of: "{norm}", with: String(Int(mean.rounded())))
                }
                // The label goes in last, so braces in it are never read as placeholders.
                return line.replacingOccurrences(of: "{label}", with: label)
            }
        }
    }

    /// The scores a patient is shown: those drawn on a 0–100 axis where higher is better, so "65 av 100" and
    /// "higher is better" are both true of every line (an index or a count of days would need explaining).
    static func feedbackScores(_ instrument: Instrument) -> [String] {
        var seen = Set<String>()
        return instrument.charts.filter { $0.range == 0...100 }.flatMap(\.scores).filter {
            instrument.reading.better[$0] == .higher && seen.insert($0).inserted
        }
    }
}
