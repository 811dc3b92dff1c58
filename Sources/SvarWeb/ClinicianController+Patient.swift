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
        return try await patient(context.parameters.get("id") ?? "", clinician, csrf, notice: SavedNotice.shown(in: request))
    }

    /// The page; `refused` is an event form sent back with its problems (shown at the top and beside the fields).
    func patient(
        _ patientId: String, _ clinician: Clinician, _ csrf: String, refused: RefusedEvent? = nil, notice: SavedNotice? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        try access.require(.clinician(clinician), \.seesResults, "see individual results")
        try await access.patient(patientId, for: .clinician(clinician))
        let t = pages.clinicianTexts(for: clinician)
        var identity: [String: Any] = [:]
        if clinician.role.seesNames,
            let sealed = try await access.identity(of: patientId, for: .clinician(clinician), purpose: "clinician page", at: services.now())
        {
            let person = try services.vault.open(sealed, patientId: patientId)
            identity["name"] = person.name ?? t["nameMissing"]
            if clinician.role.seesIdentityNumbers { identity["number"] = person.identityNumber }
        }
        let courses = try await access.courses(of: patientId, for: .clinician(clinician))
        let results = try await access.results(of: patientId, for: .clinician(clinician))
        let units = try await access.units(for: .clinician(clinician))
        // Newest first (as the store lists them), those not yet seen before the rest.
        let allFlags = try await access.safetyFlags(for: .clinician(clinician), patientId: patientId, unseenOnly: false)
        let flags = (allFlags.filter { $0.seenAt == nil } + allFlags.filter { $0.seenAt != nil }).map {
            safetyFlagView($0, t, back: "/pasient/\(patientId)", showsPatient: false)
        }
        let problems = refused?.problems ?? []
        let summaries = changeSummaries(results, t)
        let page: [String: Any] = [
            "patient": String(patientId.prefix(8)), "hasIdentity": !identity.isEmpty, "identity": identity,
            "hasProblem": !problems.isEmpty, "hasFlags": !flags.isEmpty, "flags": flags,
            "problems": FieldProblem.summary(problems) { "#\($0)-\(refused?.courseId ?? "")" },
            "courses": courses.map {
                course(
                    view: $0, units: units, canEdit: clinician.role.treatsPatients, refused: refused?.courseId == $0.id ? refused : nil, t)
            },
            "charts": charts(results, t), "hasResults": !results.isEmpty, "summaries": summaries, "hasSummaries": !summaries.isEmpty,
            "responses": results.reversed().map { responseView($0, t) },
        ]
        return pages.clinicianPage(
            "clinician-patient", title: "\(t["patient"]) \(patientId.prefix(8))", context: page, clinician: clinician, csrf: csrf,
            back: "/pasient/\(patientId)", notice: notice, status: status)
    }

    /// One course, with the event form offering only the events the pathway rules allow next (the first chosen, or
    /// what the clinician chose when the form comes back with a problem).
    func course(
        view course: CourseRecord, units: [SvarStore.Unit], canEdit: Bool, refused: RefusedEvent?, _ t: ClinicianTexts
    ) -> [String: Any] {
        let next = PathwayRules.validNext(after: course.events)
        let chosen = refused?.form.type.flatMap(PathwayEventType.init(rawValue:)).flatMap { next.contains($0) ? $0 : nil } ?? next.first
        var view: [String: Any] = [
            "id": course.id, "unit": course.unit, "type": t.courseType(course.type), "status": t.state(course.status.rawValue),
            "canEdit": canEdit && course.status == .active && !next.isEmpty, "action": "/forlop/\(course.id)/hendelse",
            "date": refused?.form.date ?? OsloTime.date(of: services.now()).description,
            "eventTypes": next.map { ["value": $0.rawValue, "label": t.event($0.rawValue), "selected": $0 == chosen] },
            "units": units.map { ["resh": $0.resh, "name": $0.name, "selected": refused?.form.unit == $0.resh] },
            "events": course.events.map { ["type": t.event($0.type.rawValue), "date": t.date($0.date), "unit": $0.unit] },
            "invitations": course.invitations.map { i -> [String: Any] in
                [
                    "milestone": services.milestoneLabel(i.milestone, t.language), "state": t.state(i.state.rawValue),
                    "opens": t.date(i.opensAt),
                    "closes": t.date(i.closesAt.addingTimeInterval(-60)), "instruments": i.instruments.joined(separator: ", "),
                ]
            },
        ]
        for problem in refused?.problems ?? [] { view["error_\(problem.field)"] = problem.text }
        return view
    }

    /// The charts each instrument's data ask for (`charts.json`), as inline SVG: a profile (RAND-36's scales per
    /// milestone, with the norm) or a trend of one score over time.
    func charts(_ results: [ResultRecord], _ t: ClinicianTexts) -> [[String: Any]] {
        var charts: [[String: Any]] = []
        for instrument in instrumentsInProtocolOrder(results) {
            let answered = results.filter { $0.instrument == instrument.id }
            for chart in instrument.charts {
                let title = chart.title[t.language] ?? chart.title[.nb] ?? instrument.id
                switch chart.kind {
                case .profile:
                    let scales = chart.scores.map { ($0, instrument.scoreLabel($0, t.language)) }
                    let series = answered.map { r in
                        (
                            label: "\(services.milestoneLabel(r.milestone, t.language)) \(t.date(r.submittedAt))",
                            values: Dictionary(uniqueKeysWithValues: r.scores.map { ($0.key, $0.number.flatMap(Double.init)) })
                        )
                    }
                    let norms = services.norms?.instrument == instrument.id ? services.norms : nil
                    charts.append([
                        "svg": ResultChart.profile(
                            series: series, scales: scales, norms: norms, title: title, labels: t.chartLabels)
                    ])
                case .trend:
                    let key = chart.scores[0]
                    let points = answered.map { r in
                        (
                            date: "\(services.milestoneLabel(r.milestone, t.language)) \(t.date(r.submittedAt))",
                            value: r.scores.first { $0.key == key }?.number.flatMap(Double.init)
                        )
                    }
                    // A value below the axis (an EQ-5D index under the range) widens it rather than leaving the chart.
                    let low = min(chart.range.lowerBound, points.compactMap(\.value).min() ?? chart.range.lowerBound)
                    charts.append([
                        "svg": ResultChart.trend(
                            points: points, yRange: low...chart.range.upperBound, title: title, unit: "",
                            decimals: instrument.places(key), times: answered.map(\.submittedAt), labels: t.chartLabels)
                    ])
                }
            }
        }
        return charts
    }

    /// One answered questionnaire: every question with the answer as the patient saw it, and the scores.
    func responseView(_ r: ResultRecord, _ t: ClinicianTexts) -> [String: Any] {
        let instrument = services.catalogue.instrument(r.instrument)
        let pack = instrument?.texts[t.language] ?? instrument?.texts[.nb]
        var answers: [String: Int] = [:]
        if case .object(let members)? = try? JSONParser.parse(r.answersJSON) {
            for (key, value) in members { answers[key] = value.integerValue }
        }
        let rows: [[String: Any]] = (instrument?.questionnaire.questions ?? []).map { q in
            let value = answers[q.linkId]
            let answer =
                value.map { v in q.type == .choice ? (pack?.items[q.linkId]?.options?[String(v)] ?? String(v)) : String(v) }
                ?? t["notAnswered"]
            return ["question": pack?.items[q.linkId]?.text ?? q.text ?? q.linkId, "answer": answer, "missing": value == nil]
        }
        return [
            "title": "\(pack?.title ?? r.instrument) – \(services.milestoneLabel(r.milestone, t.language)), \(t.date(r.submittedAt))",
            "answers": rows,
            "scores": r.scores.map { s -> [String: Any] in
                let value =
                    s.number.flatMap(ExactNumber.decimal).map { t.number($0, places: instrument?.places(s.key) ?? 1) }
                    ?? s.flag.map { $0 ? t["yes"] : t["no"] } ?? "–"
                // How it was made, in words: the value set's name, else the instrument and version of the scoring.
                let version = s.algorithm.split(separator: "@").last.map(String.init) ?? s.algorithm
                let method =
                    s.valueSet.map { id in instrument?.valueSets.first { $0.id == id }?.name ?? id }
                    ?? t("scoringMethod", ["instrument": pack?.title ?? r.instrument, "version": version])
                return [
                    "key": instrument?.scoreLabel(s.key, t.language) ?? s.key, "value": value, "method": method,
                ]
            },
        ]
    }

    /// Records a pathway event; every problem with the form is shown at once beside its field, and a saved event
    /// is confirmed on the page the browser is sent back to.
    func recordEvent(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (clinician, csrf) = try context.session()
        try access.require(.clinician(clinician), \.treatsPatients, "record pathway events")
        let form = try await FormBody.read(EventForm.self, from: request)
        let course = try await access.course(context.parameters.get("id") ?? "", for: .clinician(clinician))
        let t = pages.clinicianTexts(for: clinician)
        func refuse(_ problems: [FieldProblem], _ status: HTTPResponse.Status) async throws -> Response {
            try await patient(
                course.patientId, clinician, csrf, refused: RefusedEvent(courseId: course.id, form: form, problems: problems),
                status: status)
        }
        let type = form.type.flatMap(PathwayEventType.init(rawValue:))
        let date = form.date.trimmed.flatMap(LocalDate.init(iso:))
        let unit = type == .transfer ? form.unit.trimmed : nil
        var problems: [FieldProblem] = []
        if type == nil { problems.append(FieldProblem(field: "type", text: t["eventChoose"])) }
        if date == nil { problems.append(FieldProblem(field: "date", text: t["eventDateFormat"])) }
        if type == .transfer, unit == nil { problems.append(FieldProblem(field: "unit", text: t["eventTransferUnit"])) }
        guard problems.isEmpty, let type, let date else { return try await refuse(problems, .unprocessableContent) }
        do {
            _ = try await services.pathways.record(
                courseId: course.id, type: type, date: date, unit: unit, nprCode: nil, actor: clinician.username, at: services.now())
        } catch let error as PathwayError {
            let field = ["type", "date"].contains(error.field) ? error.field : "type"
            return try await refuse([FieldProblem(field: field, text: t("eventRefused", ["reason": t.pathway(error)]))], .conflict)
        }
        return Response(
            status: .seeOther,
            headers: [.location: SavedNotice.event.location("/pasient/\(course.patientId)", fragment: "forlop-\(course.id)")])
    }
}

/// An event form sent back: which course, what was typed, and every problem.
struct RefusedEvent {
    var courseId: String
    var form: EventForm
    var problems: [FieldProblem]
}

/// The pathway event form on a patient's page (`unit` only for a transfer).
struct EventForm: Decodable {
    var type: String?
    var date: String?
    var unit: String?
}
