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
        let t = pages.clinicianTexts(for: clinician)
        let query = try await ListQuery.read(request, sorts: ["lukket", "enhet"])
        let all = try await access.invitationSummaries(for: .clinician(clinician), states: Self.followUpStates, orVoidedLinks: true)
        var list = all.filter {
            ($0.contactedAt != nil) == showsDone && (query.unit == nil || $0.unit == query.unit)
                && (query.state == nil || $0.state == query.state) && (query.milestone == nil || $0.milestone == query.milestone)
        }
        if let found = try await patients(matching: query.search, among: Set(list.map(\.patientId)), clinician) {
            list = list.filter { found.contains($0.patientId) }
        }
        list.sort { a, b in
            query.sort == "enhet"
                ? (a.unit, a.invitationId) < (b.unit, b.invitationId) : (a.closesAt, a.invitationId) > (b.closesAt, b.invitationId)
        }
        let path = showsDone ? "/oppfolging?vis=utfort" : "/oppfolging"
        let (page, pager) = query.paged(list, path: path, t)
        let people = try await people(of: Set(page.map(\.patientId)), clinician, purpose: "follow-up list")
        let rows = page.map { summary -> [String: Any] in
            var row = row(for: summary, clinician, people: people)
            if let person = people[summary.patientId] { row["contact"] = contactView(person, t) }
            return row
        }
        let open = all.count { $0.contactedAt == nil }
        let nudges = showsDone ? [:] : try await nudgeSection(clinician, t)
        let controls = listControls(
            query, path: path, units: try await access.units(for: .clinician(clinician)), t,
            states: Self.followUpStates.map { ($0, t.state($0)) },
            milestones: services.pathways.scheduleProtocol.milestones.map { ($0.id, services.milestoneLabel($0.id, t.language)) },
            sorts: [("lukket", t["sortClosed"]), ("enhet", t["sortUnit"])], searchesNames: clinician.role.seesNames)
        return pages.clinicianPage(
            "clinician-worklist", title: t["navWorklist"],
            context: nudges.merging(controls) { $1 }.merging(pager) { $1 }.merging([
                "hasRows": !rows.isEmpty, "rows": rows, "showsDone": showsDone, "clearURL": path,
                "openTab": t("worklistOpenTab", ["count": "\(open)"]), "doneTab": t("worklistDoneTab", ["count": "\(all.count - open)"]),
            ]) { $1 }, clinician: clinician, csrf: csrf, back: path, notice: SavedNotice.shown(in: request))
    }

    /// One invitation as the worklist and the invitations page show it.
    func row(for i: InvitationSummary, _ clinician: Clinician, people: [String: Identity] = [:]) -> [String: Any] {
        let t = pages.clinicianTexts(for: clinician)
        let voided = i.linkVoidedAt.map { [["text": t("linkVoided", ["date": t.date($0)])]] } ?? []
        let problems = voided + i.deliveryProblems.map { DeliveryProblemText.describe($0, t) }
        var row: [String: Any] = [
            "id": i.invitationId, "patient": displayName(i.patientId, people, t), "unit": i.unit,
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

    /// Name, mobile number and e-mail as the clinician's own units registered them.
    func contactView(_ person: Identity, _ t: ClinicianTexts) -> [String: String] {
        var contact = ["name": person.name ?? t["nameMissing"]]
        if let mobile = person.mobile, !mobile.isEmpty { contact["mobile"] = mobile }
        if let email = person.email, !email.isEmpty { contact["email"] = email }
        return contact
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
        let people = try await people(of: [summary.patientId], clinician, purpose: "follow-up contact form")
        var item = row(for: summary, clinician, people: people)
        if let person = people[summary.patientId] { item["contact"] = contactView(person, t) }
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
