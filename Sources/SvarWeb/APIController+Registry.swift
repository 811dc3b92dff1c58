import Foundation
import Hummingbird
import SvarServices
import SvarStore

/// Deletion requests, the forwarding dead-letter list and the disclosure log, for registry staff's tools.
extension APIController {
    func addRegistryRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("patients/:id/deletion-request", use: requestDeletion)
        group.get("patients/:id/deletion-request", use: readDeletion)
        group.get("forwarding/failed", use: listFailedForwards)
        group.post("forwarding/:id/retry", use: retryForward)
        group.get("disclosures", use: listDisclosures)
    }

    /// Carries out the deletion in Svar at once (it also reserves the patient) and queues the registry's part:
    /// 202, with the report so far; GET the same path for the final report.
    func requestDeletion(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<DeletionReportJSON> {
        let patientId = try id(context)
        // The registry-wide erasure: registry staff receive the patient's request (a unit cannot erase other units' data).
        try access.require(principal(context), \.runsRegistry, "carry out deletion requests")
        try await access.patient(patientId, for: principal(context))
        let report = try await services.store.deletePatientData(patientId: patientId, actor: principal(context).name, at: services.now())
        return EditedResponse(status: .accepted, response: report.json)
    }

    func readDeletion(_ request: Request, context: AppRequestContext) async throws -> DeletionReportJSON {
        let patientId = try id(context)
        try access.require(principal(context), \.runsRegistry, "read deletion reports")
        try await access.patient(patientId, for: principal(context))
        guard let report = try await services.store.deletionReport(patientId: patientId) else {
            throw Problem(status: .notFound, title: "Not found", detail: "no deletion request for patient '\(patientId)'")
        }
        return report.json
    }

    func listFailedForwards(_ request: Request, context: AppRequestContext) async throws -> [FailedForwardJSON] {
        try access.require(principal(context), \.runsRegistry, "read the dead-letter list")
        return try await services.store.failedForwards().map(\.json)
    }

    func retryForward(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<RetryJSON> {
        let forwardId = try id(context)
        try access.require(principal(context), \.runsRegistry, "retry forwards")
        try await services.store.retryForward(id: forwardId, actor: principal(context).name, at: services.now())
        return EditedResponse(status: .accepted, response: RetryJSON(id: forwardId, state: "queued"))
    }

    /// `?patient=ID` gives that patient's disclosures in order; without it, the newest first. `limit` ≤ 10,000.
    func listDisclosures(_ request: Request, context: AppRequestContext) async throws -> [DisclosureJSON] {
        try access.require(principal(context), \.runsRegistry, "read the disclosure log")
        let patient = request.uri.queryParameters.get("patient").map { String($0) }
        var limit = 1000
        if let text = request.uri.queryParameters.get("limit") {
            guard let n = Int(text), (1...10_000).contains(n) else { throw Problem.invalid("limit", "a whole number from 1 to 10000") }
            limit = n
        }
        return try await services.store.disclosures(subject: patient, limit: limit).map(\.json)
    }

    /// Every answered questionnaire of the patient with its scores (for an EHR's own charts). Built as `JSONValue`
    /// on purpose: answers and scores are exact decimals, which `JSONEncoder` would pass through binary floating point.
    func readResults(_ request: Request, context: AppRequestContext) async throws -> Response {
        let patientId = try id(context)
        try access.require(principal(context), \.seesResults, "read results")
        try await access.patient(patientId, for: principal(context))
        let results = try await access.results(of: patientId, for: principal(context))
        return Response.exactJSON(.array(results.map(ResultJSON.result)))
    }
}
