import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SvarDomain
import SvarServices
import SvarStore
import SvarTestSupport
import Testing

/// Issue 16, "honest numbers": `/oversikt` counts every eligible questionnaire, not only the ones that were sent.
@Suite(.serialized) struct ClinicianOverviewTests {
    /// At unit 5000: six baselines answered on the day they were e-mailed, one the patient could not be reached for,
    /// and four whose window closed before anything was sent.
    static func unitWithUnsentForms(_ f: ClinicianFixture) async throws {
        let store = f.app.store
        func baseline(_ i: Int, opens: Date, closes: Date) async throws {
            guard
                case .created(let patient) = try await f.app.services.enrolment.enrol(
                    .init(identityNumber: synthetic(40 + i)), actor: "t", at: fixedNow)
            else { throw FixtureFailure() }
            let course = UUID().uuidString.lowercased()
            try await store.createCourse(NewCourse(id: course, patientId: patient, unit: "5000", type: .D01), actor: "t", at: fixedNow)
            let start = PathwayEvent(id: "start-\(course)", type: .start, date: OsloTime.date(of: opens), unit: "5000", recordedBy: "t")
            let plan = ScheduleProtocol.Plan(
                milestone: "baseline", instruments: ["eq5d-5l"], triggerEventId: start.id, dueDate: start.date, opensAt: opens,
                closesAt: closes, reminders: [])
            _ = try await store.recordEvent(courseId: course, event: start, restartingNudges: [], at: fixedNow) { _, _ in [plan] }
        }
        for i in 0..<7 { try await baseline(i, opens: fixedNow - 5 * 86_400, closes: fixedNow + 10 * 86_400) }
        for i in 7..<11 { try await baseline(i, opens: fixedNow - 20 * 86_400, closes: fixedNow - 86_400) }
        _ = try await store.expireDue(now: fixedNow, limit: 50)
        _ = try await store.openDue(now: fixedNow, limit: 50)
        let claimed = try await store.claimDeliveries(kinds: [.invitation], now: fixedNow, leaseUntil: fixedNow + 600, limit: 50)
        try #require(claimed.count == 7, "the seven open baselines are to be sent: \(claimed.count)")
        try await store.markUndeliverable(deliveryId: claimed[6].id, reasons: ["no mobile number"], at: fixedNow)
        for delivery in claimed.prefix(6) {
            _ = try await store.beginSending(deliveryIds: [delivery.id], at: fixedNow)
            try await store.markSent(deliveryId: delivery.id, channel: "email", messageId: delivery.id, at: fixedNow)
            try await store.submit(
                invitationId: delivery.invitationId ?? "",
                responses: [SubmittedResponse(instrument: "eq5d-5l", instrumentVersion: "1.0.0", answersJSON: #"{"MO":1}"#, scores: [])],
                respondent: "patient", language: "nb", at: fixedNow + 3600)
        }
    }

    @Test(arguments: StoreKind.engines)
    func theRateIsOverEligibleFormsWithEveryOutcomeCounted(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        try await Self.unitWithUnsentForms(f)
        try await f.app.application.test(.router) { client in
            var other = Browser()
            _ = try await other.login(client, "other")
            let page = try await other.get(client, "/oversikt").body
            // eligible 11, invited 7, answered 6, expired 4 and not reached 1 (two small cells), 6/11 = 55 %, median 0 days.
            let cells = ["11", "7", "6", "&lt;5", "&lt;5", "0", "0", "0", "55 %", "0"].map { #"<td class="number">\#($0)</td>"# }
            #expect(page.contains("<td>Annen enhet (5000)</td><td>Oppstart</td>" + cells.joined()), "\(page)")
            #expect(!page.contains("86 %"), "6 of the 7 sent would be 86 %: the rate is not over the sent")
            #expect(page.contains("<td>E-post</td>") && page.contains("<td>Ikke levert</td>"), "by channel")
            #expect(page.contains("Besvart delt på skulle hatt skjema – ikke på sendt."), "the terms are explained on the page")
            #expect(!page.contains("Poliklinikk Nord"), "another unit's figures are not shown")
            _ = try await other.post(client, "/sprak", ["language": "en", "tilbake": "/oversikt"])
            let english = try await other.get(client, "/oversikt").body
            #expect(english.contains("Answered divided by eligible – not by sent.") && english.contains("Median days to answer"))
        }
    }
}
