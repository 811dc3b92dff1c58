import Foundation
import Hummingbird
import SvarDomain
import SvarInstruments
import SvarServices
import SvarStore

/// The JSON API for EHR integration (`/api/v1`): units, patients, courses, events, reservation, links.
struct APIController: Sendable {
    let services: AppServices
    var access: Access { Access(store: services.store) }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.add(middleware: APIAuthMiddleware(services: services))
        group.post("units") { request, context in try await handle { try await createUnit(request, context) } }
        group.get("units") { _, context in try await handle { try await listUnits(context) } }
        group.post("patients") { request, context in try await handle { try await enrol(request, context) } }
        group.post("patients/:id/courses") { request, context in try await handle { try await startCourse(request, context) } }
        group.post("patients/:id/reservation") { _, context in try await handle { try await reserve(context) } }
        group.get("patients/:id/results") { _, context in try await handle { try await readResults(context) } }
        group.get("courses/:id") { _, context in try await handle { try await readCourse(context) } }
        group.post("courses/:id/events") { request, context in try await handle { try await recordEvent(request, context) } }
        group.post("invitations/:id/link") { _, context in try await handle { try await issueLink(context) } }
        group.get("nudges") { _, context in try await handle { try await listNudges(context) } }
        group.get("unreachable") { request, context in try await handle { try await listUnreachable(request, context) } }
        addRegistryRoutes(to: group)
    }

    /// Runs a handler and turns every known error into `application/problem+json`.
    func handle(_ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch {
            if let problem = Problem.from(error) { return problem.response }
            throw error
        }
    }

    func id(_ context: AppRequestContext) throws -> String {
        guard let id = context.parameters.get("id"), !id.isEmpty, id.count <= 64 else {
            throw Problem(status: .notFound, title: "Not found", detail: "no such resource")
        }
        return id
    }

    func principal(_ context: AppRequestContext) -> Principal { context.principal ?? .system }

    func createUnit(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try access.require(principal(context), \.runsRegistry, "create units")
        let actor = principal(context).name
        let body = try await JSONBody.read(request, allowed: ["resh", "name", "parent"])
        let resh = try body.string("resh")
        guard resh.count <= 20, resh.allSatisfy({ $0.isASCII && $0.isNumber }), resh.first != "0" else {
            throw Problem.invalid("resh", "a RESH-id is a positive whole number (digits only)")
        }
        let name = try body.string("name")
        guard name.count <= 200 else { throw Problem.invalid("name", "at most 200 characters") }
        let unit = Unit(resh: resh, name: name, parent: try body.optionalString("parent"))
        do {
            try await services.store.createUnit(unit, actor: actor, at: services.now())
        } catch StoreError.notFound(_, let id) {
            throw Problem.invalid("parent", "no unit with RESH-id '\(id)'")
        }
        return Response.json(.object([("resh", .string(resh)), ("name", .string(name))]), status: .created)
    }

    func listUnits(_ context: AppRequestContext) async throws -> Response {
        let units = try await access.units(for: principal(context))
        return Response.json(.array(units.map { u in
            .object([("resh", .string(u.resh)), ("name", .string(u.name)), ("parent", u.parent.map(JSONValue.string) ?? .null)])
        }))
    }

    func enrol(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try access.require(principal(context), \.treatsPatients, "enrol patients")
        let actor = principal(context).name
        let body = try await JSONBody.read(request, allowed: ["identityNumber", "name", "email", "mobile", "language", "birthDate", "channels"])
        let enrolment = Enrolment.Request(
            identityNumber: try body.string("identityNumber"), name: try body.optionalString("name"),
            email: try body.optionalString("email"), mobile: try body.optionalString("mobile"),
            language: try body.optionalString("language") ?? "nb", birthDate: try body.optionalString("birthDate"),
            channels: try body.optionalStrings("channels"))
        switch try await services.enrolment.enrol(enrolment, units: access.registeringUnits(principal(context)), actor: actor,
                                                  at: services.now()) {
        case let .created(id):
            return Response.json(.object([("id", .string(id))]), status: .created)
        case let .existing(id) where access.isUnitScoped(principal(context)):
            // A unit cannot tell a known number from a new one: it gets the id either way and, once it starts a
            // course, sees only what its own units record (docs: how a unit takes over a patient).
            return Response.json(.object([("id", .string(id))]), status: .created)
        case let .existing(id):
            return Problem(status: .conflict, title: "Patient exists", detail: "this identity number is already enrolled",
                           field: "identityNumber", extra: [("id", .string(id))]).response
        }
    }

    func startCourse(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let patientId = try id(context)
        try access.require(principal(context), \.treatsPatients, "start courses")
        let actor = principal(context).name
        let body = try await JSONBody.read(request, allowed: ["unit", "type"])
        let unit = try body.string("unit")
        guard access.covers(principal(context), unit: unit) else {
            throw Problem(status: .forbidden, title: "Forbidden", detail: "unit \(unit) is not one of your units", field: "unit")
        }
        guard try await services.store.patient(patientId) != nil else { throw StoreError.notFound(what: "patient", id: patientId) }
        let typeText = try body.optionalString("type") ?? "D01"
        guard let type = CourseType(rawValue: typeText) else {
            throw Problem.invalid("type", "'\(typeText)' is not a course type (D01, D11, D12)")
        }
        let courseId = UUID().uuidString.lowercased()
        do {
            try await services.store.createCourse(NewCourse(id: courseId, patientId: patientId, unit: unit, type: type),
                                                  actor: actor, at: services.now())
        } catch StoreError.notFound("unit", _) {
            throw Problem.invalid("unit", "no unit with RESH-id '\(unit)'")
        }
        return Response.json(.object([("id", .string(courseId))]), status: .created)
    }

    func readCourse(_ context: AppRequestContext) async throws -> Response {
        let course = try await access.course(try id(context), for: principal(context))
        return Response.json(CourseJSON.course(course))
    }

    func recordEvent(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let courseId = try id(context)
        try access.require(principal(context), \.treatsPatients, "record pathway events")
        _ = try await access.course(courseId, for: principal(context))
        let actor = principal(context).name
        let body = try await JSONBody.read(request, allowed: ["type", "date", "unit", "nprCode"])
        let typeText = try body.string("type")
        guard let type = PathwayEventType(rawValue: typeText) else {
            throw Problem.invalid("type", "'\(typeText)' is not one of \(PathwayEventType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let dateText = try body.string("date")
        guard let date = LocalDate(iso: dateText) else { throw Problem.invalid("date", "'\(dateText)' is not a date YYYY-MM-DD") }
        let unit = try body.optionalString("unit")
        do {
            let course = try await services.pathways.record(courseId: courseId, type: type, date: date, unit: unit,
                                                            nprCode: try body.optionalString("nprCode"), actor: actor, at: services.now())
            return Response.json(CourseJSON.course(course), status: .created)
        } catch StoreError.notFound("unit", let resh) {
            throw Problem.invalid("unit", "no unit with RESH-id '\(resh)'")
        }
    }

    func reserve(_ context: AppRequestContext) async throws -> Response {
        let patientId = try id(context)
        try access.require(principal(context), { $0.treatsPatients || $0.runsRegistry }, "record reservations")
        try await access.patient(patientId, for: principal(context))
        let cancelled = try await access.reserve(patientId, for: principal(context), at: services.now())
        return Response.json(.object([("cancelledInvitations", .int(cancelled))]), status: .created)
    }

    func issueLink(_ context: AppRequestContext) async throws -> Response {
        let invitationId = try id(context)
        try access.require(principal(context), \.treatsPatients, "issue links")
        _ = try await access.invitation(invitationId, for: principal(context))
        // A clinician's new link is how a patient whose links were voided (second factor) gets back in.
        try await services.store.restoreFactor(invitationId: invitationId, actor: principal(context).name, at: services.now())
        let link = try await services.links.issue(invitationId: invitationId, actor: principal(context).name, now: services.now())
        return Response.json(.object([("url", .string(link.url)), ("expiresAt", .string(OsloTime.iso8601(link.expiresAt)))]), status: .created)
    }

    func listNudges(_ context: AppRequestContext) async throws -> Response {
        let nudges = try await access.nudges(for: principal(context))
        return Response.json(.array(nudges.map { .object([("course", .string($0.courseId)), ("dueDate", .string($0.dueDate.description))]) }))
    }

    /// Invitations no channel could deliver, with the reasons, for the clinicians' follow-up
    /// (`?unit=RESH` may repeat to limit the list).
    func listUnreachable(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let asked = Set(request.uri.queryParameters.getAll("unit").map { String($0) })
        let list = try await access.unreachable(for: principal(context), askedUnits: asked)
        return Response.json(.array(list.map { item -> JSONValue in
            .object([
                ("invitation", .string(item.invitationId)), ("course", .string(item.courseId)), ("patient", .string(item.patientId)),
                ("unit", .string(item.unit)), ("milestone", .string(item.milestone)), ("since", .string(OsloTime.iso8601(item.since))),
                ("reasons", .array(item.reasons.map(JSONValue.string))),
            ])
        }))
    }
}
