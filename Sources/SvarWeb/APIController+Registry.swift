import Foundation
import Hummingbird
import SvarInstruments
import SvarServices
import SvarStore

/// Deletion requests, the forwarding dead-letter list and the disclosure log, for registry staff's tools.
extension APIController {
    func addRegistryRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("patients/:id/deletion-request") { _, context in try await handle { try await requestDeletion(context) } }
        group.get("patients/:id/deletion-request") { _, context in try await handle { try await readDeletion(context) } }
        group.get("forwarding/failed") { _, context in try await handle { try await listFailedForwards(context) } }
        group.post("forwarding/:id/retry") { _, context in try await handle { try await retryForward(context) } }
        group.get("disclosures") { request, context in try await handle { try await listDisclosures(request, context) } }
    }

    /// Carries out the deletion in Svar at once (it also reserves the patient) and queues the registry's part:
    /// 202, with the report so far; GET the same path for the final report.
    func requestDeletion(_ context: AppRequestContext) async throws -> Response {
        let patientId = try id(context)
        // The registry-wide erasure: registry staff receive the patient's request (a unit cannot erase other units' data).
        try access.require(principal(context), \.runsRegistry, "carry out deletion requests")
        try await access.patient(patientId, for: principal(context))
        let report = try await services.store.deletePatientData(patientId: patientId, actor: principal(context).name, at: services.now())
        return Response.json(report.json, status: .accepted)
    }

    func readDeletion(_ context: AppRequestContext) async throws -> Response {
        let patientId = try id(context)
        try access.require(principal(context), \.runsRegistry, "read deletion reports")
        try await access.patient(patientId, for: principal(context))
        guard let report = try await services.store.deletionReport(patientId: patientId) else {
            throw Problem(status: .notFound, title: "Not found", detail: "no deletion request for patient '\(patientId)'")
        }
        return Response.json(report.json)
    }

    func listFailedForwards(_ context: AppRequestContext) async throws -> Response {
        try access.require(principal(context), \.runsRegistry, "read the dead-letter list")
        return Response.json(.array(try await services.store.failedForwards().map(\.json)))
    }

    func retryForward(_ context: AppRequestContext) async throws -> Response {
        let forwardId = try id(context)
        try access.require(principal(context), \.runsRegistry, "retry forwards")
        try await services.store.retryForward(id: forwardId, actor: principal(context).name, at: services.now())
        return Response.json(.object([("id", .string(forwardId)), ("state", .string("queued"))]), status: .accepted)
    }

    /// `?patient=ID` gives that patient's disclosures in order; without it, the newest first. `limit` ≤ 10,000.
    func listDisclosures(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try access.require(principal(context), \.runsRegistry, "read the disclosure log")
        let patient = request.uri.queryParameters.get("patient").map { String($0) }
        var limit = 1000
        if let text = request.uri.queryParameters.get("limit") {
            guard let n = Int(text), (1...10_000).contains(n) else { throw Problem.invalid("limit", "a whole number from 1 to 10000") }
            limit = n
        }
        return Response.json(.array(try await services.store.disclosures(subject: patient, limit: limit).map(\.json)))
    }

    /// Every answered questionnaire of the patient with its scores (for an EHR's own charts).
    func readResults(_ context: AppRequestContext) async throws -> Response {
        let patientId = try id(context)
        try access.require(principal(context), \.seesResults, "read results")
        try await access.patient(patientId, for: principal(context))
        let results = try await access.results(of: patientId, for: principal(context))
        return Response.json(.array(results.map(ResultJSON.result)))
    }
}
