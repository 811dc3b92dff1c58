import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SvarDomain
import SvarServices
import SvarStore
import SvarTestSupport
import SvarWeb
import Testing

/// Issue 15 item 8: the rights page (configured texts, every language, no link needed) and, from the landing
/// page, declining one questionnaire or reserving — each confirmed on a page of its own, CSRF-protected.
@Suite struct PatientRightsTests {
    typealias Browser = PatientPageTests.Browser
    let fixture = PatientPageTests()

    func registryConfigured(_ c: inout SvarConfiguration) {
        c.registry.name = "Testregisteret for rusbehandling"
        c.registry.purpose = "Å måle om behandlingen hjelper."
        c.registry.dataController = "Helse Test HF"
        c.registry.contact = "Ring 22 00 00 00"
        c.registry.retention = "Svarene lagres i 20 år."
    }

    @Test(arguments: ["nb", "nn", "en"])
    func theRightsPageShowsTheConfiguredRegistryInEveryLanguageWithoutALink(_ language: String) async throws {
        let app = try await TestApp.make(configure: registryConfigured)
        try await app.application.test(.router) { client in
            let page = try await Browser(client).get("/rettigheter?lang=\(language)")
            #expect(page.status == .ok)
            #expect(page.html.contains(#"<html lang="\#(language)""#))
            for text in ["Testregisteret for rusbehandling", "Å måle om behandlingen hjelper.", "Helse Test HF", "Ring 22 00 00 00"] {
                #expect(page.html.contains(text), "\(language): \(text)")
            }
            #expect(page.html.contains("Svarene lagres i 20 år."))
            // The fixed legal wording, in the page's language.
            let law = ["nb": "helseregisterloven § 7", "nn": "helseregisterlova § 7", "en": "helseregisterloven"][language] ?? "?"
            #expect(page.html.contains(law))
            let heading = [
                "nb": "Om registeret og dine rettigheter", "nn": "Om registeret og rettane dine",
                "en": "About the registry and your rights",
            ]
            #expect(page.h1 == heading[language])
            #expect(page.headers[.contentSecurityPolicy] != nil)
        }
    }

    @Test func theRegistryTextsAreReadFromTheEnvironmentAndCheckedNamingTheVariable() throws {
        let env = [
            "SVAR_REGISTRY_NAME": "R", "SVAR_REGISTRY_PURPOSE": "P", "SVAR_DATA_CONTROLLER": "D", "SVAR_REGISTRY_CONTACT": "C",
            "SVAR_RETENTION_TEXT": "T", "SVAR_COLLECTED_TEXT": "K",
        ]
        let registry = try SvarConfiguration.fromEnvironment(env).registry
        #expect(
            [registry.name, registry.purpose, registry.dataController, registry.contact, registry.retention, registry.collected] == [
                "R", "P", "D", "C", "T", "K",
            ])
        #expect(try SvarConfiguration.fromEnvironment([:]).registry == RegistryInformation())
        for variable in RegistryInformation.variables {
            #expect(throws: ConfigurationProblem.self) { _ = try SvarConfiguration.fromEnvironment([variable: "a\u{202E}b"]) }
            do {
                _ = try SvarConfiguration.fromEnvironment([variable: String(repeating: "x", count: 601)])
                Issue.record("\(variable): 601 characters were accepted")
            } catch {
                #expect(error.variable == variable)
            }
        }
    }

    @Test func anUnconfiguredRegistrySaysSoInsteadOfGuessing() async throws {
        let app = try await TestApp.make()
        try await app.application.test(.router) { client in
            let page = try await Browser(client).get("/rettigheter?lang=nn")
            #expect(page.status == .ok)
            #expect(page.html.components(separatedBy: "Registeret har ikkje fylt inn dette enno.").count - 1 == 4)
            #expect(page.html.contains("Registeret har ikkje fylt inn korleis du kontaktar dei enno."))
        }
    }

    @Test func theRightsPageIsLinkedFromTheLandingAndTheThankYouPage() async throws {
        let app = try await TestApp.make()
        try await app.application.test(.router) { client in
            let (link, _) = try await fixture.invitationLink(client, app)
            let browser = Browser(client)
            let landing = try await browser.get("\(link)?lang=en")
            #expect(landing.html.contains("/rettigheter?lang=en&amp;fra=") || landing.html.contains("/rettigheter?lang=en&fra="))
            let review = try await fixture.answerAll(browser, link, language: "en")
            let submitted = try await browser.post("\(link)/submit?lang=en", ["csrf": try #require(review.csrf)])
            let thanks = try await browser.get(try #require(submitted.location))
            #expect(thanks.html.contains("/rettigheter?lang=en"))
        }
    }

    // MARK: Declining

    @Test(arguments: StoreKind.engines)
    func declineNeedsItsConfirmationThenEndsTheInvitationAndItsReminders(_ kind: StoreKind) async throws {
        let app = try await TestApp.make(kind)
        try await app.application.test(.router) { client in
            let (link, courseId) = try await fixture.invitationLink(client, app)
            let browser = Browser(client)
            let landing = try await browser.get("\(link)?lang=nn")
            let csrf = try #require(landing.csrf)
            #expect(landing.html.contains(#"action="\#(link)/avsla?lang=nn""#))
            // The landing page's button only asks: nothing changes yet.
            let confirm = try await browser.post("\(link)/avsla?lang=nn", ["csrf": csrf])
            #expect(confirm.status == .ok)
            #expect(confirm.h1 == "Vil du seie nei til dette skjemaet?")
            #expect(confirm.html.contains(#"name="bekreft" value="ja""#))
            #expect(try await invitation(app, courseId).state != .declined)
            // The confirmation acts, then a calm page that needs no link.
            let done = try await browser.post("\(link)/avsla?lang=nn", ["csrf": csrf, "bekreft": "ja"])
            #expect(done.status == .seeOther)
            #expect(done.location == "/avslatt?lang=nn")
            let calm = try await browser.get("/avslatt?lang=nn")
            #expect(calm.status == .ok && calm.h1 == "Du har sagt nei til dette skjemaet")
            let declined = try await invitation(app, courseId)
            #expect(declined.state == .declined)
            #expect(declined.reminders.allSatisfy { $0.state == .cancelled })
            #expect(try await app.store.remindDue(now: fixedNow + 30 * 86_400, limit: 10) == 0)
            #expect(try await app.store.auditEntries(subject: declined.id).contains { $0.action == "invitation.decline" })
            // Declining is not reserving: the patient may be asked again later.
            let patientId = try #require(try await app.store.course(courseId)?.patientId)
            #expect(try await app.store.patient(patientId)?.isReserved == false)
            // The link is closed now, and says why: the patient said no (not that it expired).
            let again = try await browser.get("\(link)?lang=nn")
            #expect(again.status == .gone && again.h1 == "Du har sagt nei til dette skjemaet")
        }
    }

    // MARK: Reserving

    @Test(arguments: StoreKind.engines)
    func aReservationFromTheLandingPageHasTheAPIsEffectAndIsAudited(_ kind: StoreKind) async throws {
        let app = try await TestApp.make(kind)
        try await app.application.test(.router) { client in
            // One patient reserves through the API, the other from their landing page.
            let (_, apiCourse) = try await fixture.invitationLink(client, app, number: 1)
            let (link, pageCourse) = try await fixture.invitationLink(client, app, number: 2)
            let apiPatient = try #require(try await app.store.course(apiCourse)?.patientId)
            let pagePatient = try #require(try await app.store.course(pageCourse)?.patientId)
            #expect(try await client.api(.post, "/api/v1/patients/\(apiPatient)/reservation").status == .created)

            let browser = Browser(client)
            let csrf = try #require(try await browser.get(link).csrf)
            let confirm = try await browser.post("\(link)/reserver?lang=nb", ["csrf": csrf])
            #expect(confirm.status == .ok)
            #expect(confirm.h1 == "Vil du at vi aldri spør deg igjen?")
            #expect(confirm.html.contains("reservere seg"))
            #expect(try await app.store.patient(pagePatient)?.isReserved == false, "the first POST only asks")
            let done = try await browser.post("\(link)/reserver?lang=nb", ["csrf": csrf, "bekreft": "ja"])
            #expect(done.location == "/reservert?lang=nb")
            #expect(try await browser.get("/reservert?lang=nb").h1 == "Vi spør deg ikke igjen")

            #expect(try await app.store.patient(pagePatient)?.isReserved == true)
            let byAPI = try #require(try await app.store.course(apiCourse))
            let byPage = try #require(try await app.store.course(pageCourse))
            #expect(byPage.invitations.map(\.state) == byAPI.invitations.map(\.state))
            #expect(byPage.invitations.allSatisfy { $0.state == .cancelled && $0.cancelReason == .reservation })
            #expect(try await app.store.outbox(patientId: pagePatient).allSatisfy { $0.state == .cancelled })
            let audit = try await app.store.auditEntries(subject: pagePatient)
            #expect(audit.contains { $0.action == "patient.reserve" && $0.actor == "patient" })
            #expect(try await browser.get(link).status == .gone)
        }
    }

    // MARK: Refusals

    @Test(arguments: ["avsla", "reserver"])
    func withoutTheCSRFTokenNothingChanges(_ path: String) async throws {
        let app = try await TestApp.make()
        try await app.application.test(.router) { client in
            let (link, courseId) = try await fixture.invitationLink(client, app)
            let browser = Browser(client)
            _ = try await browser.get(link)
            let refused = try await browser.post("\(link)/\(path)?lang=en", ["bekreft": "ja"])
            #expect(refused.status == .forbidden)
            #expect(refused.html.contains(#"<html lang="en""#))
            let wrong = try await browser.post("\(link)/\(path)?lang=en", ["csrf": String(repeating: "x", count: 43), "bekreft": "ja"])
            #expect(wrong.status == .forbidden)
            let patientId = try #require(try await app.store.course(courseId)?.patientId)
            #expect(try await app.store.patient(patientId)?.isReserved == false)
            #expect(try await invitation(app, courseId).state == .opened)
        }
    }

    @Test func anUnknownConfirmationIsAClearBadRequestInThePatientsLanguage() async throws {
        let app = try await TestApp.make()
        try await app.application.test(.router) { client in
            let (link, courseId) = try await fixture.invitationLink(client, app)
            let browser = Browser(client)
            let csrf = try #require(try await browser.get(link).csrf)
            let bad = try await browser.post("\(link)/reserver?lang=nn", ["csrf": csrf, "bekreft": "kanskje"])
            #expect(bad.status == .badRequest)
            #expect(bad.h1 == "Vi forstod ikkje svaret")
            let patientId = try #require(try await app.store.course(courseId)?.patientId)
            #expect(try await app.store.patient(patientId)?.isReserved == false)
        }
    }

    func invitation(_ app: TestApp, _ courseId: String) async throws -> InvitationRecord {
        try #require(try await app.store.course(courseId)?.invitations.first { $0.milestone == "baseline" })
    }
}
