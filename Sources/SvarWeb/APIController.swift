import Foundation
import Hummingbird
import SvarDomain
import SvarInstruments
import SvarServices
import SvarStore

/// The JSON API for EHR integration (`/api/v1`): units, patients, courses, events, reservation, links.
/// Errors are thrown (`Problem`, or the services' own errors that `APIProblemMiddleware` maps).
struct APIController: Sendable {
    let services: AppServices
    var access: Access { Access(store: services.store) }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.add(middleware: APIAuthMiddleware(services: services))
        group.post("units", use: createUnit)
        group.get("units", use: listUnits)
        group.post("patients", use: enrol)
        group.post("patients/:id/courses", use: startCourse)
        group.post("patients/:id/reservation", use: reserve)
        group.get("patients/:id/results", use: readResults)
        group.get("courses/:id", use: readCourse)
        group.post("courses/:id/events", use: recordEvent)
        group.post("invitations/:id/link", use: issueLink)
        group.get("nudges", use: listNudges)
        group.get("unreachable", use: listUnreachable)
        addRegistryRoutes(to: group)
    }

    func id(_ context: AppRequestContext) throws -> String {
        guard let id = context.parameters.get("id"), !id.isEmpty, id.count <= 64 else {
            throw Problem(status: .notFound, title: "Not found", detail: "no such resource")
        }
        return id
    }

    func principal(_ context: AppRequestContext) -> Principal { context.principal ?? .system }

    func createUnit(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<CreatedUnitJSON> {
        try access.require(principal(context), \.runsRegistry, "create units")
        let actor = principal(context).name
        let body = try await JSONBody.read(UnitRequest.self, from: request)
        let resh = try body.resh.required("resh")
        guard resh.count <= 20, resh.allSatisfy({ $0.isASCII && $0.isNumber }), resh.first != "0" else {
            throw Problem.invalid("resh", "a RESH-id is a positive whole number (digits only)")
        }
        let name = try body.name.required("name")
        guard name.count <= 200 else { throw Problem.invalid("name", "at most 200 characters") }
        let unit = Unit(resh: resh, name: name, parent: body.parent.trimmed)
        do {
            try await services.store.createUnit(unit, actor: actor, at: services.now())
        } catch StoreError.notFound(_, let id) {
            throw Problem.invalid("parent", "no unit with RESH-id '\(id)'")
        }
        return EditedResponse(status: .created, response: CreatedUnitJSON(resh: resh, name: name))
    }

    func listUnits(_ request: Request, context: AppRequestContext) async throws -> [UnitJSON] {
        try await access.units(for: principal(context)).map { UnitJSON(resh: $0.resh, name: $0.name, parent: $0.parent) }
    }

    func enrol(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<CreatedJSON> {
        try access.require(principal(context), \.treatsPatients, "enrol patients")
        let actor = principal(context).name
        let body = try await JSONBody.read(EnrolRequest.self, from: request)
        let enrolment = Enrolment.Request(
            identityNumber: try body.identityNumber.required("identityNumber"), name: body.name.trimmed, email: body.email.trimmed,
            mobile: body.mobile.trimmed, language: body.language.trimmed ?? "nb", birthDate: body.birthDate.trimmed, channels: body.channels
        )
        switch try await services.enrolment.enrol(
            enrolment, units: access.registeringUnits(principal(context)), actor: actor,
            at: services.now())
        {
        case .created(let id):
            return EditedResponse(status: .created, response: CreatedJSON(id: id))
        case .existing(let id) where access.isUnitScoped(principal(context)):
            // A unit cannot tell a known number from a new one: it gets the id either way and, once it starts a
            // course, sees only what its own units record (docs: how a unit takes over a patient).
            return EditedResponse(status: .created, response: CreatedJSON(id: id))
        case .existing(let id):
            throw Problem(
                status: .conflict, title: "Patient exists", detail: "this identity number is already enrolled",
                field: "identityNumber", id: id)
        }
    }

    func startCourse(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<CreatedJSON> {
        let patientId = try id(context)
        try access.require(principal(context), \.treatsPatients, "start courses")
        let actor = principal(context).name
        let body = try await JSONBody.read(CourseRequest.self, from: request)
        let unit = try body.unit.required("unit")
        guard access.covers(principal(context), unit: unit) else {
            throw Problem(status: .forbidden, title: "Forbidden", detail: "unit \(unit) is not one of your units", field: "unit")
        }
        guard try await services.store.patient(patientId) != nil else { throw StoreError.notFound(what: "patient", id: patientId) }
        let typeText = body.type.trimmed ?? "D01"
        guard let type = CourseType(rawValue: typeText) else {
            throw Problem.invalid("type", "'\(typeText)' is not a course type (D01, D11, D12)")
        }
        let courseId = RecordId.make()
        do {
            try await services.store.createCourse(
                NewCourse(id: courseId, patientId: patientId, unit: unit, type: type),
                actor: actor, at: services.now())
        } catch StoreError.notFound("unit", _) {
            throw Problem.invalid("unit", "no unit with RESH-id '\(unit)'")
        }
        return EditedResponse(status: .created, response: CreatedJSON(id: courseId))
    }

    func readCourse(_ request: Request, context: AppRequestContext) async throws -> CourseJSON {
        CourseJSON(try await access.course(try id(context), for: principal(context)))
    }

    func recordEvent(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<CourseJSON> {
        let courseId = try id(context)
        try access.require(principal(context), \.treatsPatients, "record pathway events")
        _ = try await access.course(courseId, for: principal(context))
        let actor = principal(context).name
        let body = try await JSONBody.read(EventRequest.self, from: request)
        let typeText = try body.type.required("type")
        guard let type = PathwayEventType(rawValue: typeText) else {
            throw Problem.invalid(
                "type", "'\(typeText)' is not one of \(PathwayEventType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let dateText = try body.date.required("date")
        guard let date = LocalDate(iso: dateText) else { throw Problem.invalid("date", "'\(dateText)' is not a date YYYY-MM-DD") }
        do {
            let course = try await services.pathways.record(
                courseId: courseId, type: type, date: date, unit: body.unit.trimmed,
                nprCode: body.nprCode.trimmed, actor: actor, at: services.now())
            return EditedResponse(status: .created, response: CourseJSON(course))
        } catch StoreError.notFound("unit", let resh) {
            throw Problem.invalid("unit", "no unit with RESH-id '\(resh)'")
        }
    }

    func reserve(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<ReservationJSON> {
        let patientId = try id(context)
        try access.require(principal(context), { $0.treatsPatients || $0.runsRegistry }, "record reservations")
        try await access.patient(patientId, for: principal(context))
        let cancelled = try await access.reserve(patientId, for: principal(context), at: services.now())
        return EditedResponse(status: .created, response: ReservationJSON(cancelledInvitations: cancelled))
    }

    func issueLink(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<LinkJSON> {
        let invitationId = try id(context)
        try access.require(principal(context), \.treatsPatients, "issue links")
        _ = try await access.invitation(invitationId, for: principal(context))
        // A clinician's new link is how a patient whose links were voided (second factor) gets back in.
        try await services.store.restoreFactor(invitationId: invitationId, actor: principal(context).name, at: services.now())
        let link = try await services.links.issue(invitationId: invitationId, actor: principal(context).name, now: services.now())
        return EditedResponse(status: .created, response: LinkJSON(url: link.url, expiresAt: OsloTime.iso8601(link.expiresAt)))
    }

    func listNudges(_ request: Request, context: AppRequestContext) async throws -> [NudgeJSON] {
        try await access.nudges(for: principal(context)).map(NudgeJSON.init)
    }

    /// Invitations no channel could deliver, with the reasons, for the clinicians' follow-up
    /// (`?unit=RESH` may repeat to limit the list).
    func listUnreachable(_ request: Request, context: AppRequestContext) async throws -> [UnreachableJSON] {
        let asked = Set(request.uri.queryParameters.getAll("unit").map { String($0) })
        return try await access.unreachable(for: principal(context), askedUnits: asked).map(UnreachableJSON.init)
    }
}
