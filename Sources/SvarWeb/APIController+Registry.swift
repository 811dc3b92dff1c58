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
        group.get("forwarding/failed") { _, _ in try await handle { try await listFailedForwards() } }
        group.post("forwarding/:id/retry") { _, context in try await handle { try await retryForward(context) } }
        group.get("disclosures") { request, _ in try await handle { try await listDisclosures(request) } }
    }

    /// Carries out the deletion in Svar at once (it also reserves the patient) and queues the registry's part:
    /// 202, with the report so far; GET the same path for the final report.
    func requestDeletion(_ context: AppRequestContext) async throws -> Response {
        let report = try await services.store.deletePatientData(patientId: try id(context), actor: actor, at: services.now())
        return Response.json(report.json, status: .accepted)
    }

    func readDeletion(_ context: AppRequestContext) async throws -> Response {
        let patientId = try id(context)
        guard let report = try await services.store.deletionReport(patientId: patientId) else {
            throw Problem(status: .notFound, title: "Not found", detail: "no deletion request for patient '\(patientId)'")
        }
        return Response.json(report.json)
    }

    func listFailedForwards() async throws -> Response {
        Response.json(.array(try await services.store.failedForwards().map(\.json)))
    }

    func retryForward(_ context: AppRequestContext) async throws -> Response {
        let forwardId = try id(context)
        try await services.store.retryForward(id: forwardId, actor: actor, at: services.now())
        return Response.json(.object([("id", .string(forwardId)), ("state", .string("queued"))]), status: .accepted)
    }

    /// `?patient=ID` gives that patient's disclosures in order; without it, the newest first. `limit` ≤ 10,000.
    func listDisclosures(_ request: Request) async throws -> Response {
        let patient = request.uri.queryParameters.get("patient").map { String($0) }
        var limit = 1000
        if let text = request.uri.queryParameters.get("limit") {
            guard let n = Int(text), (1...10_000).contains(n) else { throw Problem.invalid("limit", "a whole number from 1 to 10000") }
            limit = n
        }
        return Response.json(.array(try await services.store.disclosures(subject: patient, limit: limit).map(\.json)))
    }
}
