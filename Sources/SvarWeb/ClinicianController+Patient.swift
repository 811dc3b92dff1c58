import Foundation
import Hummingbird
import SvarDomain
import SvarInstruments
import SvarServices
import SvarStore

/// A patient's page (courses, results over time with charts, every answer) and the forms that change a
/// course: record a pathway event, enrol a new patient.
extension ClinicianController {
    func patientPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (clinician, csrf) = try context.session()
        return try await patient(context.parameters.get("id") ?? "", clinician, csrf, problem: nil)
    }

    func patient(
        _ patientId: String, _ clinician: Clinician, _ csrf: String, problem: String?,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        try access.require(.clinician(clinician), \.seesResults, "see individual results")
        try await access.patient(patientId, for: .clinician(clinician))
        var identity: [String: Any] = [:]
        if clinician.role.seesNames,
            let sealed = try await access.identity(of: patientId, for: .clinician(clinician), purpose: "clinician page", at: services.now())
        {
            let person = try services.vault.open(sealed, patientId: patientId)
            identity["name"] = person.name ?? "(navn ikke registrert)"
            if clinician.role.seesIdentityNumbers { identity["number"] = person.identityNumber }
        }
        let courses = try await access.courses(of: patientId, for: .clinician(clinician))
        let results = try await access.results(of: patientId, for: .clinician(clinician))
        let units = try await access.units(for: .clinician(clinician))
        return pages.clinicianPage(
            "clinician-patient", title: "Pasient \(patientId.prefix(8))",
            context: [
                "patient": String(patientId.prefix(8)), "hasIdentity": !identity.isEmpty, "identity": identity,
                "hasProblem": problem != nil, "problem": problem ?? "",
                "courses": courses.map { course(view: $0, units: units, canEdit: clinician.role.treatsPatients) },
                "charts": charts(results), "hasResults": !results.isEmpty,
                "responses": results.reversed().map(responseView),
            ], clinician: clinician, csrf: csrf, status: status)
    }

    func course(view course: CourseRecord, units: [SvarStore.Unit], canEdit: Bool) -> [String: Any] {
        [
            "id": course.id, "unit": course.unit, "type": course.type.rawValue, "status": RoleText.state(course.status.rawValue),
            "canEdit": canEdit && course.status == .active, "action": "/forlop/\(course.id)/hendelse",
            "today": OsloTime.date(of: services.now()).description,
            "events": course.events.map { ["type": RoleText.event($0.type.rawValue), "date": $0.date.description, "unit": $0.unit] },
            "invitations": course.invitations.map { i -> [String: Any] in
                [
                    "milestone": RoleText.milestone(i.milestone), "state": RoleText.state(i.state.rawValue),
                    "opens": RoleText.date(i.opensAt),
                    "closes": RoleText.date(i.closesAt.addingTimeInterval(-60)), "instruments": i.instruments.joined(separator: ", "),
                ]
            },
            "eventTypes": PathwayEventType.allCases.map { ["value": $0.rawValue, "label": RoleText.event($0.rawValue)] },
            "units": units.map { ["resh": $0.resh, "name": $0.name] },
        ]
    }

    /// The RAND-36 profile per milestone with the norm, and EQ-5D index and VAS over time, as inline SVG.
    func charts(_ results: [ResultRecord]) -> [[String: Any]] {
        var charts: [[String: Any]] = []
        let rand = results.filter { $0.instrument == "rand36" }
        if !rand.isEmpty, let instrument = services.catalogue.instrument("rand36"), case .scaleMeans(let scoring) = instrument.scoring {
            let scales = scoring.scales.map(\.id).filter { $0 != "healthChange" }.map { ($0, ScaleText.rand36[$0] ?? $0) }
            let series = rand.map { r in
                (
                    label: "\(RoleText.milestone(r.milestone)) \(RoleText.date(r.submittedAt))",
                    values: Dictionary(uniqueKeysWithValues: r.scores.map { ($0.key, $0.number.flatMap(Double.init)) })
                )
            }
            charts.append([
                "svg": ResultChart.profile(
                    series: series, scales: scales, norms: services.norms, title: "RAND-36: profil per måletidspunkt")
            ])
        }
        let eq = results.filter { $0.instrument.hasPrefix("eq5d") }
        if !eq.isEmpty {
            func points(_ key: String) -> [(date: String, value: Double?)] {
                eq.map { r in (RoleText.date(r.submittedAt), r.scores.first { $0.key == key }?.number.flatMap(Double.init)) }
            }
            let low = min(-0.6, points("index").compactMap(\.value).min() ?? 0)
            charts.append(["svg": ResultChart.trend(points: points("index"), yRange: low...1, title: "EQ-5D indeks over tid", unit: "")])
            charts.append(["svg": ResultChart.trend(points: points("vas"), yRange: 0...100, title: "EQ VAS over tid", unit: "")])
        }
        return charts
    }

    /// One answered questionnaire: every question with the answer as the patient saw it, and the scores.
    func responseView(_ r: ResultRecord) -> [String: Any] {
        let instrument = services.catalogue.instrument(r.instrument)
        let pack = instrument?.texts[.nb]
        var answers: [String: Int] = [:]
        if case .object(let members)? = try? JSONParser.parse(r.answersJSON) {
            for (key, value) in members { answers[key] = value.integerValue }
        }
        let rows: [[String: Any]] = (instrument?.questionnaire.questions ?? []).map { q in
            let value = answers[q.linkId]
            let answer =
                value.map { v in q.type == .choice ? (pack?.items[q.linkId]?.options?[String(v)] ?? String(v)) : String(v) }
                ?? "Ikke besvart"
            return ["question": pack?.items[q.linkId]?.text ?? q.text ?? q.linkId, "answer": answer, "missing": value == nil]
        }
        return [
            "title": "\(pack?.title ?? r.instrument) – \(RoleText.milestone(r.milestone)), \(RoleText.date(r.submittedAt))",
            "answers": rows,
            "scores": r.scores.map { s -> [String: Any] in
                let value =
                    s.number.map { ExactNumber.decimal($0).map { ExactNumber.text($0, places: 3) } ?? $0 } ?? s.flag.map {
                        $0 ? "ja" : "nei"
                    } ?? "–"
                return [
                    "key": ScaleText.rand36[s.key] ?? s.key, "value": value,
                    "method": s.valueSet.map { "\(s.algorithm), \($0)" } ?? s.algorithm,
                ]
            },
        ]
    }

    func recordEvent(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (clinician, csrf) = try context.session()
        try access.require(.clinician(clinician), \.treatsPatients, "record pathway events")
        let form = try await FormBody.read(EventForm.self, from: request)
        let course = try await access.course(context.parameters.get("id") ?? "", for: .clinician(clinician))
        let pageContext = course.patientId
        guard let type = form.type.flatMap(PathwayEventType.init(rawValue:)) else {
            return try await patient(pageContext, clinician, csrf, problem: "Velg en hendelse.", status: .unprocessableContent)
        }
        guard let date = form.date.flatMap(LocalDate.init(iso:)) else {
            return try await patient(
                pageContext, clinician, csrf, problem: "Datoen må skrives som ÅÅÅÅ-MM-DD.", status: .unprocessableContent)
        }
        let unit = type == .transfer ? form.unit.flatMap { $0.isEmpty ? nil : $0 } : nil
        do {
            _ = try await services.pathways.record(
                courseId: course.id, type: type, date: date, unit: unit, nprCode: nil,
                actor: clinician.username, at: services.now())
        } catch let error as PathwayError {
            return try await patient(
                pageContext, clinician, csrf, problem: "Hendelsen ble ikke registrert: \(RoleText.pathway(error))", status: .conflict)
        }
        return Response(status: .seeOther, headers: [.location: "/pasient/\(course.patientId)#forlop-\(course.id)"])
    }
}

/// The pathway event form on a patient's page (`unit` only for a transfer).
struct EventForm: Decodable {
    var type: String?
    var date: String?
    var unit: String?
}

/// Bokmål names of the RAND-36 scales.
enum ScaleText {
    static let rand36 = [
        "physicalFunctioning": "Fysisk funksjon", "rolePhysical": "Rollebegrensning, fysisk",
        "roleEmotional": "Rollebegrensning, følelsesmessig",
        "energyFatigue": "Energi", "emotionalWellbeing": "Psykisk velvære", "socialFunctioning": "Sosial funksjon", "pain": "Smerte",
        "generalHealth": "Generell helse", "healthChange": "Endring i helse",
    ]
}
