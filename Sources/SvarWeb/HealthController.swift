import Crypto
import Foundation
import Hummingbird
import Prometheus
import SvarDomain

/// `/health` for load balancers and `/metrics` for Prometheus. Neither shows anything about patients.
struct HealthController: Sendable {
    let services: AppServices

    init(services: AppServices) {
        self.services = services
        services.metrics.makeGauge(
            descriptor: .init(
                namespace: "svar", metricName: "instruments", unitName: "loaded",
                helpText: "Instruments loaded at start-up")
        )
        .set(Int64(services.catalogue.instruments.count))
        services.metrics.makeGauge(
            descriptor: .init(
                namespace: "svar", subsystem: "value", metricName: "sets", unitName: "loaded",
                helpText: "EQ-5D value sets loaded at start-up")
        )
        .set(Int64(services.catalogue.valueSets.count))
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/health", use: health)
        router.get("/openapi.json", use: openAPI)
        router.get("/metrics", use: metrics)
    }

    func health(_ request: Request, context: AppRequestContext) -> HealthJSON {
        HealthJSON(status: "ok", version: services.version, instruments: services.catalogue.instruments.map(\.id))
    }

    /// The API's OpenAPI 3.1 document (web/static/openapi.json), for EHR integrators and their tools.
    func openAPI(_ request: Request, context: AppRequestContext) throws -> Response {
        guard let data = FileManager.default.contents(atPath: services.pages.staticDirectory + "/openapi.json") else {
            throw Problem(status: .notFound, title: "Not found", detail: "this installation has no API description")
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func metrics(_ request: Request, context: AppRequestContext) throws -> Response {
        // With SVAR_METRICS_TOKEN set, only the scraper that knows it sees the counters.
        if let token = services.configuration.metricsToken {
            let given = Array((request.headers[.authorization] ?? "").utf8)
            guard constantTimeEqual(Array(SHA256.hash(data: given)), Array(SHA256.hash(data: Array("Bearer \(token)".utf8)))) else {
                var response = try Problem(
                    status: .unauthorized, title: "Unauthorized",
                    detail: "send Authorization: Bearer with SVAR_METRICS_TOKEN"
                ).response()
                response.headers[.wwwAuthenticate] = "Bearer realm=\"svar-metrics\""
                return response
            }
        }
        var buffer: [UInt8] = []
        services.metrics.emit(into: &buffer)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
    }
}
