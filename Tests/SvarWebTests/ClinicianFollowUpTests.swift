import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SvarDomain
import SvarServices
import SvarStore
import SvarTestSupport
import Testing

/// Issue 16, "act": the follow-up list says how to reach the patient and, in words, why the invitation did not
/// arrive; a contact is recorded with a day and a note, after which the item moves to the "done" view.
@Suite struct ClinicianFollowUpTests {
    /// At 4208: the fixture patient's baseline of a course started in October (expired), and a new patient whose
    /// invitation could be sent on no channel. The fixture's answered baseline has its message cancelled by the claim.
    static func worklist(_ f: ClinicianFixture) async throws -> (expired: String, unreachable: String, unreachablePatient: String) {
        let store = f.app.store
        let course = UUID().uuidString.lowercased()
        try await store.createCourse(NewCourse(id: course, patientId: f.patientId, unit: "4208", type: .D01), actor: "t", at: fixedNow)
        _ = try await f.app.services.pathways.record(
            courseId: course, type: .start, date: LocalDate(iso: "2026-10-01")!, unit: nil, nprCode: nil, actor: "t", at: fixedNow)
        guard
            case .created(let other) = try await f.app.services.enrolment.enrol(
                .init(identityNumber: synthetic(2), name: "Ola Uten Nummer", email: "ola@example.no"), actor: "t", at: fixedNow)
        else { throw FixtureFailure() }
        let second = UUID().uuidString.lowercased()
        try await store.createCourse(NewCourse(id: second, patientId: other, unit: "4208", type: .D01), actor: "t", at: fixedNow)
        _ = try await f.app.services.pathways.record(
            courseId: second, type: .start, date: LocalDate(iso: "2026-11-21")!, unit: nil, nprCode: nil, actor: "t", at: fixedNow)
        _ = try await SchedulerPass(store: store, scheduleProtocol: f.app.scheduleProtocol).run(now: fixedNow)
        let expired = try #require(try await store.course(course)?.invitations.first { $0.state == .expired }?.id)
        let claimed = try await store.claimDeliveries(kinds: [.invitation], now: fixedNow, leaseUntil: fixedNow + 600, limit: 10)
        let delivery = try #require(claimed.first { $0.patientId == other })
        try await store.markUndeliverable(
            deliveryId: delivery.id,
            reasons: ["email: SMTP 550 5.1.1 <recipient>: mailbox unavailable", "sms: no mobile number on record", "pigeon: lost"],
            at: fixedNow)
        return (expired, try #require(delivery.invitationId), other)
    }

    @Test(arguments: StoreKind.engines)
    func theListSaysHowToReachThePatientAndWhyTheInvitationDidNotArrive(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        let (expired, unreachable, other) = try await Self.worklist(f)
        try await f.app.application.test(.router) { client in
            var kari = Browser()
            _ = try await kari.login(client, "kari")
            let list = try await kari.get(client, "/oppfolging").body
            #expect(list.contains("/oppfolging/\(expired)/kontaktet") && list.contains("/oppfolging/\(unreachable)/kontaktet"))
            #expect(list.contains("Å følge opp (2)") && list.contains("Fulgt opp (0)"))
            // Contact details as the unit registered them, with links to call or write.
            #expect(list.contains("Kari Nordmann") && list.contains(#"<a href="mailto:kari@example.no">kari@example.no</a>"#))
            #expect(list.contains("Ola Uten Nummer"))
            // Each reason in words, the technical text beside it (in English, marked so).
            #expect(list.contains("E-post: mottakeren avviste meldingen."), "\(list)")
            #expect(list.contains("SMS: ikke noe mobilnummer er registrert."))
            #expect(list.contains(": sendingen mislyktes."), "an unknown reason is not hidden")
            #expect(
                list.contains(#"<small class="technical" lang="en">(email: SMTP 550 5.1.1 &lt;recipient&gt;: mailbox unavailable)</small>"#)
            )
            // Reading the names is audited, naming the page.
            for patient in [f.patientId, other] {
                let reads = try await f.app.store.auditEntries(subject: patient).filter { $0.action == "identity.read" }
                #expect(reads.contains { $0.actor == "kari" && $0.detail == "follow-up list" }, "\(reads)")
            }
            // A cancelled message (its questionnaire was answered) is no delivery problem.
            let invitations = try await kari.get(client, "/invitasjoner").body
            #expect(!invitations.contains("invitation completed") && invitations.contains("SMS: ikke noe mobilnummer er registrert."))

            // A role without names sees no contact details; one without patients may not use the list.
            var contact = Browser()
            _ = try await contact.login(client, "entity-a")
            #expect(try await contact.get(client, "/oppfolging").status == .forbidden)
        }
    }

    @Test(arguments: StoreKind.engines)
    func aContactIsRecordedWithADayAndANoteAndTheItemMovesToDone(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        let (expired, unreachable, _) = try await Self.worklist(f)
        try await f.app.application.test(.router) { client in
            var kari = Browser()
            _ = try await kari.login(client, "kari")
            let form = try await kari.get(client, "/oppfolging/\(expired)/kontaktet")
            #expect(form.status == .ok && form.body.contains(#"name="date" type="date" required value="2026-11-22""#), "today by default")
            #expect(form.body.contains("kari@example.no") && form.body.contains("Utløpt"))

            // Every problem at once, the typed text kept, nothing saved.
            let long = String(repeating: "a", count: 501)
            let refused = try await kari.post(client, "/oppfolging/\(expired)/kontaktet", ["date": "2026-12-24", "note": long])
            #expect(refused.status == .unprocessableContent)
            #expect(refused.body.contains("Datoen for kontakten kan ikke være fram i tid eller mer enn ett år tilbake."))
            #expect(refused.body.contains("Notatet kan ha høyst 500 tegn.") && refused.body.contains(#"value="2026-12-24""#))
            #expect(refused.body.contains(##"href="#felt-date""##) && refused.body.contains(##"href="#felt-note""##))
            let badDay = try await kari.post(client, "/oppfolging/\(expired)/kontaktet", ["date": "31.13.2026", "note": "x"])
            #expect(badDay.status == .unprocessableContent && badDay.body.contains("Skriv datoen for kontakten som dag.måned.år"))
            #expect(try await kari.get(client, "/oppfolging").body.contains("Å følge opp (2)"), "nothing saved")

            // Typed as a person would where there is no date picker.
            let saved = try await kari.post(
                client, "/oppfolging/\(expired)/kontaktet", ["date": "20.11.2026", "note": "Ringte. Sender nytt skjema <neste uke>."])
            #expect(saved.status == .seeOther && saved.headers[.location] == "/oppfolging?lagret=kontaktet")
            let open = try await kari.get(client, "/oppfolging?lagret=kontaktet").body
            #expect(open.contains("Kontakten er registrert.") && open.contains("Å følge opp (1)") && open.contains("Fulgt opp (1)"))
            #expect(!open.contains("/oppfolging/\(expired)/kontaktet") && open.contains("/oppfolging/\(unreachable)/kontaktet"))
            let done = try await kari.get(client, "/oppfolging?vis=utfort").body
            #expect(done.contains("Kontaktet 20. november 2026 av kari"), "\(done)")
            #expect(done.contains("Ringte. Sender nytt skjema &lt;neste uke&gt;."), "the note, escaped")
            #expect(!done.contains("/oppfolging/\(unreachable)/kontaktet"))
            let audited = try await f.app.store.auditEntries(subject: f.patientId).filter { $0.action == "follow-up.contacted" }
            #expect(audited.map(\.detail) == ["invitation \(expired), contacted 2026-11-20"])

            // Not on the worklist (answered), or another unit's: as if absent.
            #expect(try await kari.post(client, "/oppfolging/\(f.invitationId)/kontaktet", [:]).status == .notFound)
            var other = Browser()
            _ = try await other.login(client, "other")
            #expect(try await other.get(client, "/oppfolging/\(unreachable)/kontaktet").status == .notFound)
            #expect(try await other.post(client, "/oppfolging/\(unreachable)/kontaktet", [:]).status == .notFound)
        }
    }

    @Test(arguments: StoreKind.engines)
    func aCourseWithoutAnEvaluationForTooLongIsOnTheStartPageAndTheList(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        let course = UUID().uuidString.lowercased()
        try await f.app.store.createCourse(
            NewCourse(id: course, patientId: f.patientId, unit: "4208", type: .D01), actor: "t", at: fixedNow)
        _ = try await f.app.services.pathways.record(
            courseId: course, type: .start, date: LocalDate(iso: "2026-06-01")!, unit: nil, nprCode: nil, actor: "t", at: fixedNow)
        let raised = try await f.app.store.raiseNudges(
            milestone: "evaluation", afterDays: 90, today: OsloTime.date(of: fixedNow), at: fixedNow)
        #expect(raised == 1)
        try await f.app.application.test(.router) { client in
            var kari = Browser()
            _ = try await kari.login(client, "kari")
            for page in ["/", "/oppfolging"] {
                let body = try await kari.get(client, page).body
                #expect(body.contains("Forløp uten evaluering"), "\(page)")
                #expect(body.contains(#"<a href="/pasient/\#(f.patientId)">\#(f.patientId.prefix(8))</a> (4208): "#), "\(page)")
                #expect(body.contains("skulle vært registrert innen 30. august 2026."), "\(page): \(body)")
            }
            #expect(try await !kari.get(client, "/oppfolging?vis=utfort").body.contains("Forløp uten evaluering"))
            var other = Browser()
            _ = try await other.login(client, "other")
            #expect(try await !other.get(client, "/").body.contains("Forløp uten evaluering"), "another unit's course")
            var entity = Browser()
            _ = try await entity.login(client, "entity-a")
            #expect(try await !entity.get(client, "/").body.contains("Forløp uten evaluering"), "a role that does not treat")
        }
    }
}
