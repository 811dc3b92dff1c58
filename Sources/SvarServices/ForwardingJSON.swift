import Foundation
import SvarDomain
import SvarStore

/// The JSON shapes of the disclosure log, the dead-letter list and deletion reports: one shape for the API
/// and the CLI (a contract registry staff's tools depend on). Times are ISO 8601 in Oslo time.
public struct DisclosureJSON: Encodable, Sendable {
    public let at: String
    public let recipient: String
    public let patient: String
    public let identifiedBy: String
    public let dataSet: String
    public let response: String
    public let basis: String
    public let receipt: String
}

public struct FailedForwardJSON: Encodable, Sendable {
    public let id: String
    public let patient: String
    @Nullable public var response: String?
    public let attempts: Int
    public let failedAt: String
    public let reason: String
}

public struct DeletionReportJSON: Encodable, Sendable {
    public let patient: String
    public let state: String
    public let requestedAt: String
    public let deadline: String
    @Nullable public var completedAt: String?
    public let erased: [String]
    public let kept: [String]
}

extension Disclosure {
    public var json: DisclosureJSON {
        DisclosureJSON(
            at: OsloTime.iso8601(at), recipient: recipient, patient: subject, identifiedBy: identifiedBy, dataSet: dataSet,
            response: responseId, basis: basis, receipt: receipt)
    }
}

extension FailedForward {
    public var json: FailedForwardJSON {
        FailedForwardJSON(
            id: id, patient: patientId, response: responseId, attempts: attempts, failedAt: OsloTime.iso8601(failedAt),
            reason: reason)
    }
}

extension DeletionReport {
    public var json: DeletionReportJSON {
        DeletionReportJSON(
            patient: patientId, state: state.rawValue, requestedAt: OsloTime.iso8601(requestedAt),
            deadline: OsloTime.iso8601(deadline), completedAt: completedAt.map(OsloTime.iso8601), erased: erased, kept: kept)
    }
}
