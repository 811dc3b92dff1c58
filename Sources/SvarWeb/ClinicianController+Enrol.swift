import Foundation
import Hummingbird
import SvarDomain
import SvarInstruments
import SvarServices
import SvarStore

/// Enrolling a patient from the clinician pages: the identity goes into the vault, a course starts at one of
/// the clinician's units, and (with a start date) the `start` event schedules the baseline questionnaire.
///
/// Nothing is saved until every field is right (all problems are shown at once), and a number already known at the
/// clinician's units is not silently given a new course: the page says so and what will happen, and the clinician
/// confirms. A number known only at other units is treated as new, so a unit learns nothing of other units' patients.
extension ClinicianController {
    /// The form's fields in page order: the error summary lists problems in this order.
    static let enrolFields = ["identityNumber", "name", "email", "mobile", "language", "unit", "type", "startDate"]

    func showEnrol(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (clinician, csrf) = try context.session()
        return try await enrolPage(clinician, csrf, problems: [], form: EnrolForm(), notice: SavedNotice.shown(in: request))
    }

    func enrolPage(
        _ clinician: Clinician, _ csrf: String, problems: [FieldProblem], form: EnrolForm, known: [String: Any]? = nil,
        notice: SavedNotice? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        try access.require(.clinician(clinician), \.treatsPatients, "enrol patients")
        let units = try await access.units(for: .clinician(clinician))
        let t = pages.clinicianTexts(for: clinician)
        var values = form.values
        if known != nil { values["knownPatient"] = form.knownPatient }
        var context: [String: Any] = [
            "form": values, "hasProblem": !problems.isEmpty, "problems": FieldProblem.summary(problems, anchor: { "#felt-\($0)" }),
            "units": units.map { ["resh": $0.resh, "name": $0.name, "selected": form.unit == $0.resh] },
            "languages": [("nb", "patientLanguageNb"), ("nn", "patientLanguageNn"), ("en", "patientLanguageEn")].map {
                ["code": $0.0, "name": t[$0.1], "selected": (form.language ?? "nb") == $0.0]
            },
            "types": CourseType.allCases.map {
                ["code": $0.rawValue, "name": t.courseType($0), "selected": (form.type ?? "D01") == $0.rawValue]
            },
            "courseTypes": CourseType.allCases.map { ["code": $0.rawValue, "explained": t["courseTypeHint\($0.rawValue)"]] },
        ]
        if let known { context["known"] = known }
        for problem in problems { context["error_\(problem.field)"] = problem.text }
        return pages.clinicianPage(
            "clinician-enrol", title: t["navEnrol"], context: context, clinician: clinician, csrf: csrf, back: "/registrer",
            notice: notice, status: status)
    }

    func enrol(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (clinician, csrf) = try context.session()
        try access.require(.clinician(clinician), \.treatsPatients, "enrol patients")
        let form = try await FormBody.read(EnrolForm.self, from: request)
        let t = pages.clinicianTexts(for: clinician)
        let number = form.identityNumber.trimmed
        let enrolment = Enrolment.Request(
            identityNumber: number ?? "", name: form.name.trimmed, email: form.email.trimmed,
            mobile: form.mobile.trimmed, language: form.language.trimmed ?? "nb")
        // Every problem at once: the service's own checks, then what only this form has.
        var problems = services.enrolment.problems(enrolment).map { FieldProblem(field: $0.field, text: t.inputProblem($0.field)) }
        if number == nil {
            problems.removeAll { $0.field == "identityNumber" }
            problems.append(FieldProblem(field: "identityNumber", text: t["problemIdentityNumberMissing"]))
        }
        let unit = form.unit.trimmed.flatMap { clinician.covers(unit: $0) ? $0 : nil }
        if unit == nil { problems.append(FieldProblem(field: "unit", text: t["problemUnit"])) }
        let type = CourseType(rawValue: form.type.trimmed ?? "D01")
        if type == nil { problems.append(FieldProblem(field: "type", text: t["problemType"])) }
        var start: LocalDate?
        if let text = form.startDate.trimmed {
            if let date = LocalDate(iso: text) {
                start = date
                // The pathway rules decide before anything is saved, so a refused date leaves no course behind.
                let event = PathwayEvent(id: "", type: .start, date: date, unit: unit ?? "", recordedBy: clinician.username)
                do {
                    try PathwayRules.check(event, after: [], today: OsloTime.date(of: services.now()))
                } catch {
                    // `check` throws only a `PathwayError`, and a first `start` is refused only for its date: the text
                    // names the field, in sentence case.
                    problems.append(
                        FieldProblem(field: "startDate", text: error.field == "date" ? t["problemStartDate"] : t.pathway(error)))
                }
            } else {
                problems.append(FieldProblem(field: "startDate", text: t["problemDate"]))
            }
        }
        guard problems.isEmpty, let number, let unit, let type else {
            let ordered = problems.sorted {
                (Self.enrolFields.firstIndex(of: $0.field) ?? 99) < (Self.enrolFields.firstIndex(of: $1.field) ?? 99)
            }
            return try await enrolPage(clinician, csrf, problems: ordered, form: form, status: .unprocessableContent)
        }
        let hash = try services.enrolment.lookupHash(identityNumber: number)
        let known = try await access.knownPatient(lookupHash: hash, for: .clinician(clinician))
        if let known, form.knownPatient != known {
            let notice = try await knownNotice(known, form: form, unit: unit, type: type, start: start, clinician: clinician, t)
            var confirming = form
            confirming.knownPatient = known
            return try await enrolPage(clinician, csrf, problems: [], form: confirming, known: notice)
        }
        let patientId: String
        switch try await services.enrolment.enrol(enrolment, units: [unit], actor: clinician.username, at: services.now()) {
        case .created(let id), .existing(let id): patientId = id
        }
        let courseId = RecordId.make()
        try await services.store.createCourse(
            NewCourse(id: courseId, patientId: patientId, unit: unit, type: type), actor: clinician.username, at: services.now())
        if let start {
            _ = try await services.pathways.record(
                courseId: courseId, type: .start, date: start, unit: nil, nprCode: nil, actor: clinician.username, at: services.now())
        }
        let saved: SavedNotice = known == nil ? .enrolled : .courseAdded
        return Response(status: .seeOther, headers: [.location: saved.location("/pasient/\(patientId)", fragment: "forlop-\(courseId)")])
    }

    /// What the page says about a number already known at the clinician's units: who (as the clinician may see
    /// them) and what confirming will do — a new course, the typed contact details kept for this unit only where
    /// typed, the patient's language unchanged.
    func knownNotice(
        _ patientId: String, form: EnrolForm, unit: String, type: CourseType, start: LocalDate?, clinician: Clinician,
        _ t: ClinicianTexts
    ) async throws -> [String: Any] {
        var notice: [String: Any] = [
            "patient": String(patientId.prefix(8)),
            "body": t("knownBody", ["patient": String(patientId.prefix(8))]),
        ]
        if clinician.role.seesResults { notice["patientURL"] = "/pasient/\(patientId)" }
        if clinician.role.seesNames,
            let sealed = try await access.identity(
                of: patientId, for: .clinician(clinician), purpose: "registration of a known number", at: services.now())
        {
            notice["name"] = try services.vault.open(sealed, patientId: patientId).name ?? t["nameMissing"]
        }
        let unitName = try await access.units(for: .clinician(clinician)).first { $0.resh == unit }?.name ?? unit
        var will = [t("knownWillAddCourse", ["type": t.courseType(type), "unit": "\(unitName) (\(unit))"])]
        if let start { will.append(t("knownWillStart", ["date": t.date(start)])) }
        will.append(t("knownWillKeepIdentity", ["unit": unitName]))
        let language = try await services.store.patient(patientId).flatMap { Language(rawValue: $0.language) }
        if let language {
            let name = t["patientLanguage" + language.rawValue.prefix(1).uppercased() + language.rawValue.dropFirst()]
            will.append(t("knownWillKeepLanguage", ["language": name]))
        }
        notice["will"] = will
        return notice
    }
}

/// One field's problem, in the clinician's language and in sentence case.
struct FieldProblem: Sendable, Equatable {
    var field: String
    var text: String

    /// The error summary's lines: each problem, linking to its field.
    static func summary(_ problems: [FieldProblem], anchor: (String) -> String) -> [[String: String]] {
        problems.map { ["text": $0.text, "anchor": anchor($0.field)] }
    }
}

/// The enrolment form. Every field may be missing or empty; `enrol` says which are wrong, in the clinician's language.
struct EnrolForm: Decodable {
    var identityNumber: String?
    var name: String?
    var email: String?
    var mobile: String?
    var language: String?
    var unit: String?
    var type: String?
    var startDate: String?
    /// The known patient the clinician confirmed adding a course to (set by the page that said the number is known).
    var knownPatient: String?

    /// The fields as typed, to fill the form in again (never the CSRF token).
    var values: [String: String] {
        let fields = [
            ("identityNumber", identityNumber), ("name", name), ("email", email), ("mobile", mobile), ("language", language),
            ("unit", unit), ("type", type), ("startDate", startDate),
        ]
        return Dictionary(uniqueKeysWithValues: fields.compactMap { key, value in value.map { (key, $0) } })
    }
}
