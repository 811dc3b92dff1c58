import Foundation
import Hummingbird
import SvarDomain
import SvarInstruments
import SvarStore

/// Safety-relevant answers (an overdose, injecting, the worst anxiety or depression — `safety.json` of each
/// instrument): listed at the top of the patient's page and on the start page until a clinician of the unit marks
/// them seen. The mark is audited; a flag outside the clinician's units does not exist for them.
extension ClinicianController {
    /// One flag for a list: what was answered, in which questionnaire, when, (once seen) by whom, and — on the start
    /// page, which lists many patients — whose answer it is.
    func safetyFlagView(_ flag: SafetyFlagRecord, _ t: ClinicianTexts, back: String, showsPatient: Bool) -> [String: Any] {
        let instrument = services.catalogue.instrument(flag.instrument)
        let items = flag.items.map { linkId in instrument?.safety.first { $0.item == linkId }?.label(t.language) ?? linkId }
        var view: [String: Any] = [
            "id": flag.responseId, "items": items, "patient": String(flag.patientId.prefix(8)),
            "patientURL": "/pasient/\(flag.patientId)", "unit": flag.unit,
            "form": "\(instrument?.texts[t.language]?.title ?? flag.instrument) – \(services.milestoneLabel(flag.milestone, t.language))",
            "answered": t.date(flag.submittedAt), "action": "/svar/\(flag.responseId)/sett", "back": back,
            "showPatient": showsPatient,
        ]
        if let seenAt = flag.seenAt { view["seen"] = t("safetySeenBy", ["date": t.date(seenAt), "user": flag.seenBy ?? ""]) }
        return view
    }

    /// Marks a flag seen (audited) and goes back to the page the form was on.
    func markSafetyFlagSeen(_ request: Request, context: AppRequestContext) async throws -> Response {
        let clinician = try context.session().clinician
        try access.require(.clinician(clinician), \.seesResults, "mark answers as seen")
        let form = try await FormBody.read(SeenForm.self, from: request)
        try await access.markSafetyFlagSeen(context.parameters.get("id") ?? "", for: .clinician(clinician), at: services.now())
        return Response(status: .seeOther, headers: [.location: SavedNotice.safetySeen.location(Self.safeNext(form.tilbake))])
    }
}

/// The "seen" button's form: the page to go back to.
struct SeenForm: Decodable {
    var csrf: String?
    var tilbake: String?
}
