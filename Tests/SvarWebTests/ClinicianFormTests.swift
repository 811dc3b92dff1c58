import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SvarDomain
import SvarServices
import SvarStore
import SvarTestSupport
import Testing

/// Issue 16, "forms that talk back": a known number is announced before anything changes, course types are
/// explained, the event form offers only what may come next, every save is confirmed and every problem is shown at once.
@Suite(.serialized) struct ClinicianFormTests {
    @Test(arguments: StoreKind.engines)
    func aKnownNumberIsAnnouncedAndNothingChangesUntilTheClinicianConfirms(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        try await f.app.application.test(.router) { client in
            var kari = Browser()
            _ = try await kari.login(client, "kari")
            _ = try await kari.get(client, "/registrer")
            let fields = ["identityNumber": synthetic(1), "name": "Kari Ny", "mobile": "91234567", "unit": "4208", "type": "D11"]
            let notice = try await kari.post(client, "/registrer", fields)
            #expect(notice.status == .ok && notice.body.contains("Fødselsnummeret er allerede registrert"))
            #expect(notice.body.contains(String(f.patientId.prefix(8))) && notice.body.contains(ClinicianFixture.name), "who it is")
            #expect(notice.body.contains("D11 – psykisk helsevern, voksne") && notice.body.contains("endres ikke"), "what will happen")
            #expect(notice.body.contains(#"value="Kari Ny""#) && notice.body.contains(#"name="knownPatient" value="\#(f.patientId)""#))
            #expect(try await f.app.store.courses(patientId: f.patientId, in: .everyUnit).count == 1, "nothing saved yet")
            let confirmed = try await kari.post(client, "/registrer", fields.merging(["knownPatient": f.patientId]) { _, new in new })
            let location = try #require(confirmed.headers[.location])
            #expect(confirmed.status == .seeOther && location.hasPrefix("/pasient/\(f.patientId)?lagret=nytt-forlop#forlop-"))
            #expect(try await f.app.store.courses(patientId: f.patientId, in: .everyUnit).map(\.type.rawValue).sorted() == ["D01", "D11"])
            let page = try await kari.get(client, String(location.split(separator: "#")[0]))
            #expect(page.body.contains("Forløpet er lagt til hos pasienten som allerede var registrert."))
            #expect(page.body.contains("Kari Ny"), "the typed name is kept for the clinician's own unit")
            // A unit with no course of this patient cannot tell the number is known: it is enrolled at once.
            var other = Browser()
            _ = try await other.login(client, "other")
            _ = try await other.get(client, "/registrer")
            let elsewhere = try await other.post(
                client, "/registrer", ["identityNumber": synthetic(1), "name": "Ola", "unit": "5000", "type": "D01"])
            #expect(elsewhere.status == .seeOther && elsewhere.headers[.location]?.contains("?lagret=registrert") == true)
        }
    }

    @Test(arguments: StoreKind.engines)
    func everyProblemIsShownAtOnceInSentenceCaseAndNothingIsSaved(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        try await f.app.application.test(.router) { client in
            var kari = Browser()
            _ = try await kari.login(client, "kari")
            let form = try await kari.get(client, "/registrer")
            #expect(
                form.body.contains("TSB – tverrfaglig spesialisert rusbehandling") && form.body.contains("psykisk helsevern, barn og unge"))
            let before = try await f.app.store.courseSummaries(in: .everyUnit).count
            let refused = try await kari.post(
                client, "/registrer",
                ["identityNumber": "123", "email": "ikke-epost", "mobile": "12", "unit": "5000", "type": "D99", "startDate": "1.1.2026"])
            #expect(refused.status == .unprocessableContent)
            let summary = try #require(
                refused.body.components(separatedBy: "error-summary").dropFirst().first?.components(separatedBy: "</ul>").first)
            let lines = summary.components(separatedBy: "<li>").dropFirst().map {
                $0.components(separatedBy: "\">").dropFirst().first ?? ""
            }
            #expect(lines.count == 6, "identity number, email, mobile, unit, type and date together: \(summary)")
            #expect(lines.allSatisfy { $0.first?.isUppercase == true }, "sentence case: \(lines)")
            #expect(summary.contains(##"href="#felt-identityNumber""##) && summary.contains(##"href="#felt-startDate""##))
            #expect(refused.body.components(separatedBy: #"aria-invalid="true""#).count - 1 == 6)
            let future = try await kari.post(
                client, "/registrer", ["identityNumber": synthetic(30), "unit": "4208", "type": "D01", "startDate": "2027-01-01"])
            #expect(future.status == .unprocessableContent && future.body.contains(##"href="#felt-startDate">Startdatoen kan ikke"##))
            #expect(try await f.app.store.courseSummaries(in: .everyUnit).count == before, "a refused form saves nothing")
        }
    }

    @Test(arguments: StoreKind.engines)
    func theEventFormOffersOnlyWhatMayComeNextAndConfirmsTheSave(_ kind: StoreKind) async throws {
        let f = try await ClinicianFixture.make(kind)
        let fresh = UUID().uuidString.lowercased()
        try await f.app.store.createCourse(NewCourse(id: fresh, patientId: f.patientId, unit: "4208", type: .D12), actor: "t", at: fixedNow)
        try await f.app.application.test(.router) { client in
            var kari = Browser()
            _ = try await kari.login(client, "kari")
            let page = try await kari.get(client, "/pasient/\(f.patientId)").body
            let started = try #require(
                page.components(separatedBy: #"id="type-\#(f.courseId)""#).dropFirst().first?.components(separatedBy: "</select>").first)
            #expect(!started.contains(#"value="start""#), "a started course is never offered 'start'")
            #expect(started.contains(#"<option value="firstAttendance" selected>"#) && started.contains(#"value="breakOff""#))
            let new = try #require(
                page.components(separatedBy: #"id="type-\#(fresh)""#).dropFirst().first?.components(separatedBy: "</select>").first)
            #expect(new.components(separatedBy: "<option").count - 1 == 1 && new.contains(#"value="start""#), "only 'start': \(new)")
            #expect(page.contains("D12 – psykisk helsevern, barn og unge"))

            let both = try await kari.post(client, "/forlop/\(f.courseId)/hendelse", ["date": "22.11.2026"])
            #expect(both.status == .unprocessableContent && both.body.contains("Velg en hendelse.") && both.body.contains("ÅÅÅÅ-MM-DD"))
            #expect(both.body.contains(##"href="#type-\##(f.courseId)""##) && both.body.contains(##"href="#date-\##(f.courseId)""##))
            let transfer = try await kari.post(client, "/forlop/\(f.courseId)/hendelse", ["type": "transfer", "date": "2026-11-22"])
            #expect(transfer.status == .unprocessableContent && transfer.body.contains("Velg enheten forløpet overføres til."))
            #expect(transfer.body.contains(#"<option value="transfer" selected>"#), "the choice is kept")

            let saved = try await kari.post(client, "/forlop/\(f.courseId)/hendelse", ["type": "firstAttendance", "date": "2026-11-22"])
            let location = try #require(saved.headers[.location])
            #expect(saved.status == .seeOther && location == "/pasient/\(f.patientId)?lagret=hendelse#forlop-\(f.courseId)")
            let after = try await kari.get(client, String(location.split(separator: "#")[0])).body
            #expect(after.contains(#"role="status"><p>Hendelsen er registrert i forløpet.</p>"#))
            let next = try #require(
                after.components(separatedBy: #"id="type-\#(f.courseId)""#).dropFirst().first?.components(separatedBy: "</select>").first)
            #expect(!next.contains(#"value="firstAttendance""#), "recorded once, not offered again")
            let tampered = try await kari.get(client, "/pasient/\(f.patientId)?lagret=%3Cb%3Efake").body
            #expect(!tampered.contains(#"role="status""#) && !tampered.contains("fake"), "only known codes put words on the page")
        }
    }
}
