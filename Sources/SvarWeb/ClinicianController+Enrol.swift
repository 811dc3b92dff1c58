import Foundation
import Hummingbird
import SvarDomain
import SvarServices
import SvarStore

/// Enrolling a patient from the clinician pages: the identity goes into the vault, a course starts at one of
/// the clinician's units, and (with a start date) the `start` event schedules the baseline questionnaire.
extension ClinicianController {
    /// The key of each field's short label in the clinician pack (`labelIdentityNumber`, …), for the error summary.
    static func fieldLabelKey(_ field: String) -> String { "label" + field.prefix(1).uppercased() + field.dropFirst() }

    func showEnrol(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (clinician, csrf) = try context.session()
        return try await enrolPage(clinician, csrf, problem: nil, form: EnrolForm())
    }

    func enrolPage(
        _ clinician: Clinician, _ csrf: String, problem: (field: String, text: String)?, form: EnrolForm,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        try access.require(.clinician(clinician), \.treatsPatients, "enrol patients")
        let units = try await access.units(for: .clinician(clinician))
        let t = pages.clinicianTexts(for: clinician)
        var context: [String: Any] = [
            "form": form.values, "hasProblem": problem != nil,
            "units": units.map { ["resh": $0.resh, "name": $0.name, "selected": form.unit == $0.resh] },
            "languages": [("nb", "patientLanguageNb"), ("nn", "patientLanguageNn"), ("en", "patientLanguageEn")].map {
                ["code": $0.0, "name": t[$0.1], "selected": (form.language ?? "nb") == $0.0]
            },
            "types": CourseType.allCases.map { ["code": $0.rawValue, "selected": (form.type ?? "D01") == $0.rawValue] },
        ]
        if let problem {
            context["problem"] = "\(t.pack[Self.fieldLabelKey(problem.field)] ?? problem.field): \(problem.text)"
            context["problemAnchor"] = "#felt-\(problem.field)"
            context["error_\(problem.field)"] = problem.text
        }
        return pages.clinicianPage(
            "clinician-enrol", title: t["navEnrol"], context: context, clinician: clinician, csrf: csrf, back: "/registrer",
            status: status)
    }

    func enrol(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (clinician, csrf) = try context.session()
        try access.require(.clinician(clinician), \.treatsPatients, "enrol patients")
        let form = try await FormBody.read(EnrolForm.self, from: request)
        let t = pages.clinicianTexts(for: clinician)
        /// The page again, with the fields as typed and the problem next to its field.
        func refuse(_ field: String, _ text: String) async throws -> Response {
            try await enrolPage(clinician, csrf, problem: (field, text), form: form, status: .unprocessableContent)
        }
        guard let number = form.identityNumber.trimmed else {
            return try await refuse("identityNumber", t["problemIdentityNumberMissing"])
        }
        guard let unit = form.unit.trimmed, clinician.covers(unit: unit) else { return try await refuse("unit", t["problemUnit"]) }
        guard let type = CourseType(rawValue: form.type.trimmed ?? "D01") else {
            return try await refuse("type", t["problemType"])
        }
        var start: LocalDate?
        if let text = form.startDate.trimmed {
            guard let date = LocalDate(iso: text) else { return try await refuse("startDate", t["problemDate"]) }
            start = date
        }
        let enrolment = Enrolment.Request(
            identityNumber: number, name: form.name.trimmed, email: form.email.trimmed,
            mobile: form.mobile.trimmed, language: form.language.trimmed ?? "nb")
        let patientId: String
        do {
            switch try await services.enrolment.enrol(enrolment, units: [unit], actor: clinician.username, at: services.now()) {
            case .created(let id), .existing(let id): patientId = id
            }
        } catch let problem as InputProblem {
            return try await refuse(problem.field, t.inputProblem(problem.field))
        }
        let courseId = UUID().uuidString.lowercased()
        try await services.store.createCourse(
            NewCourse(id: courseId, patientId: patientId, unit: unit, type: type),
            actor: clinician.username, at: services.now())
        if let start {
            do {
                _ = try await services.pathways.record(
                    courseId: courseId, type: .start, date: start, unit: nil, nprCode: nil,
                    actor: clinician.username, at: services.now())
            } catch let error as PathwayError {
                return try await refuse("startDate", t.pathway(error))
            }
        }
        return Response(status: .seeOther, headers: [.location: "/pasient/\(patientId)#forlop-\(courseId)"])
    }
}

/// The enrolment form. Every field may be missing or empty; `enrol` says which one is wrong, in the clinician's language.
struct EnrolForm: Decodable {
    var identityNumber: String?
    var name: String?
    var email: String?
    var mobile: String?
    var language: String?
    var unit: String?
    var type: String?
    var startDate: String?

    /// The fields as typed, to fill the form in again (never the CSRF token).
    var values: [String: String] {
        let fields = [
            ("identityNumber", identityNumber), ("name", name), ("email", email), ("mobile", mobile), ("language", language),
            ("unit", unit), ("type", type), ("startDate", startDate),
        ]
        return Dictionary(uniqueKeysWithValues: fields.compactMap { key, value in value.map { (key, $0) } })
    }
}
