import Foundation
import Hummingbird
import SvarDomain
import SvarServices
import SvarStore

/// The follow-up worklist: questionnaires a patient was not reached for, let expire or declined. A clinician calls or
/// writes to the patient another way, so the list shows how to reach them (to roles that see names; each read is
/// audited) and, in words, what was tried and why it failed; marking the contact takes a date and a note, and the
/// item then leaves the list for the "done" view.
extension ClinicianController {
    static let followUpStates = ["unreachable", "expired", "declined"]
    /// The longest note kept with a contact mark.
    static let contactNoteLimit = 500

    func worklist(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (clinician, csrf) = try context.session()
        try access.require(.clinician(clinician), \.treatsPatients, "use the follow-up worklist")
        let showsDone = request.uri.queryParameters.get("vis") == "utfort"
        let all = try await access.invitationSummaries(for: .clinician(clinician), states: Self.followUpStates, orVoidedLinks: true)
        let list = all.filter { ($0.contactedAt != nil) == showsDone }
        let t = pages.clinicianTexts(for: clinician)
        let contacts = try await contactDetails(of: Set(list.map(\.patientId)), clinician, purpose: "follow-up list")
        let rows = list.map { summary -> [String: Any] in
            var row = row(for: summary, clinician)
            if let contact = contacts[summary.patientId] { row["contact"] = contact }
            return row
        }
        let open = all.count { $0.contactedAt == nil }
        let nudges = showsDone ? [:] : try await nudgeSection(clinician, t)
        return pages.clinicianPage(
            "clinician-worklist", title: t["navWorklist"],
            context: nudges.merging([
                "hasRows": !rows.isEmpty, "rows": rows, "showsDone": showsDone,
                "openTab": t("worklistOpenTab", ["count": "\(open)"]), "doneTab": t("worklistDoneTab", ["count": "\(all.count - open)"]),
            ]) { $1 }, clinician: clinician, csrf: csrf, back: showsDone ? "/oppfolging?vis=utfort" : "/oppfolging",
            notice: SavedNotice.shown(in: request))
    }

    /// One invitation as the worklist and the invitations page show it.
    func row(for i: InvitationSummary, _ clinician: Clinician) -> [String: Any] {
        let t = pages.clinicianTexts(for: clinician)
        let voided = i.linkVoidedAt.map { [["text": t("linkVoided", ["date": t.date($0)])]] } ?? []
        let problems = voided + i.deliveryProblems.map { DeliveryProblemText.describe($0, t) }
        var row: [String: Any] = [
            "id": i.invitationId, "patient": String(i.patientId.prefix(8)), "unit": i.unit,
            "milestone": services.milestoneLabel(i.milestone, t.language),
            "state": t.state(i.state), "opens": t.date(i.opensAt),
            "closes": t.date(i.closesAt.addingTimeInterval(-60)),
            "reminders": i.remindersSent, "problems": problems, "hasProblems": !problems.isEmpty,
            "contactURL": "/oppfolging/\(i.invitationId)/kontaktet",
        ]
        if clinician.role.seesResults { row["patientURL"] = "/pasient/\(i.patientId)" }
        if let at = i.contactedAt {
            row["contacted"] = t(
                "contactedOnBy", ["date": t.date(i.contactedOn ?? OsloTime.date(of: at)), "user": i.contactedBy ?? ""])
            if !i.contactNote.isEmpty { row["contactNote"] = i.contactNote }
        }
        return row
    }

    /// Name, mobile number and e-mail of each patient as the clinician's own units registered them, for the roles that
    /// see names (every read is in the audit log with `purpose`); empty for the others.
    func contactDetails(of patients: Set<String>, _ clinician: Clinician, purpose: String) async throws -> [String: [String: String]] {
        guard clinician.role.seesNames else { return [:] }
        var out: [String: [String: String]] = [:]
        let t = pages.clinicianTexts(for: clinician)
        for patientId in patients.sorted() {
            guard let sealed = try await access.identity(of: patientId, for: .clinician(clinician), purpose: purpose, at: services.now())
            else { continue }
            let person = try services.vault.open(sealed, patientId: patientId)
            var contact = ["name": person.name ?? t["nameMissing"]]
            if let mobile = person.mobile, !mobile.isEmpty { contact["mobile"] = mobile }
            if let email = person.email, !email.isEmpty { contact["email"] = email }
            out[patientId] = contact
        }
        return out
    }

    func contactForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (clinician, csrf) = try context.session()
        return try await contactPage(context.parameters.get("id") ?? "", clinician, csrf, form: ContactForm(), problems: [])
    }

    /// The form that records a contact: the item, how to reach the patient, the day and a note.
    func contactPage(
        _ id: String, _ clinician: Clinician, _ csrf: String, form: ContactForm, problems: [FieldProblem],
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        try access.require(.clinician(clinician), \.treatsPatients, "mark follow-up contacts")
        let summary = try await access.followUpItem(id, for: .clinician(clinician))
        let t = pages.clinicianTexts(for: clinician)
        var item = row(for: summary, clinician)
        if let contact = try await contactDetails(of: [summary.patientId], clinician, purpose: "follow-up contact form")[summary.patientId]
        {
            item["contact"] = contact
        }
        var context: [String: Any] = [
            "item": item, "action": "/oppfolging/\(id)/kontaktet",
            "date": form.date ?? OsloTime.date(of: services.now()).description, "note": form.note ?? "",
            "noteLimit": Self.contactNoteLimit, "hasProblem": !problems.isEmpty,
            "problems": FieldProblem.summary(problems, anchor: { "#felt-\($0)" }),
        ]
        for problem in problems { context["error_\(problem.field)"] = problem.text }
        return pages.clinicianPage(
            "clinician-contact", title: t["contactHeading"], context: context, clinician: clinician, csrf: csrf,
            back: "/oppfolging/\(id)/kontaktet", status: status)
    }

    func markContacted(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (clinician, csrf) = try context.session()
        try access.require(.clinician(clinician), \.treatsPatients, "mark follow-up contacts")
        let id = context.parameters.get("id") ?? ""
        let form = try await FormBody.read(ContactForm.self, from: request)
        let t = pages.clinicianTexts(for: clinician)
        let today = OsloTime.date(of: services.now())
        var problems: [FieldProblem] = []
        // No date sent (the list's one-click form of earlier versions): today.
        let typed = form.date.trimmed
        let day = typed == nil ? today : typed.flatMap(Self.contactDay)
        if let day, day > today || day < today.adding(months: -12) {
            problems.append(FieldProblem(field: "date", text: t["problemContactDate"]))
        } else if day == nil {
            problems.append(FieldProblem(field: "date", text: t["problemContactDateFormat"]))
        }
        let note = (form.note ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if note.count > Self.contactNoteLimit {
            problems.append(FieldProblem(field: "note", text: t("problemContactNoteLength", ["limit": "\(Self.contactNoteLimit)"])))
        } else if note.unicodeScalars.contains(where: {
            $0.properties.generalCategory == .control && $0 != "\n" && $0 != "\r" && $0 != "\t"
        }) {
            problems.append(FieldProblem(field: "note", text: t["problemContactNoteCharacters"]))
        }
        guard problems.isEmpty, let day else {
            return try await contactPage(id, clinician, csrf, form: form, problems: problems, status: .unprocessableContent)
        }
        try await access.markContacted(id, for: .clinician(clinician), on: day, note: note, at: services.now())
        return Response(status: .seeOther, headers: [.location: SavedNotice.contacted.location("/oppfolging")])
    }
}

extension ClinicianController {
    /// A day as the date field sends it (`2026-12-06`) or as typed where the browser has no date picker (`6.12.2026`).
    static func contactDay(_ text: String) -> LocalDate? {
        if let iso = LocalDate(iso: text) { return iso }
        guard let match = text.wholeMatch(of: /(\d{1,2})\.(\d{1,2})\.(\d{4})/), let day = Int(match.1), let month = Int(match.2),
            let year = Int(match.3)
        else { return nil }
        return LocalDate(year: year, month: month, day: day)
    }
}

/// The contact form: the day the patient was reached and what was agreed. Both may be missing (today, no note).
struct ContactForm: Decodable {
    var csrf: String?
    var date: String?
    var note: String?
}
