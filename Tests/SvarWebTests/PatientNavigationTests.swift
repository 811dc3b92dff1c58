import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SvarDomain
import SvarInstruments
import SvarRegistry
import SvarStore
import SvarTestSupport
import Testing

/// Navigation that keeps answers (issue 15 item 4): "Back" saves the step without asking for a complete page,
/// "Change" on the review returns to the review, the landing page offers to continue at the first unanswered
/// step, and the language switch on a step saves what was typed and shows the same step in the other language.
@Suite struct PatientNavigationTests {
    typealias Browser = PatientPageTests.Browser
    let helper = PatientPageTests()
    /// The baseline: RAND-36 in steps 1–8, EQ-5D-5L's dimensions in step 9 and its VAS in step 10.
    let dimensionsStep = 9
    let vasStep = 10

    /// Every question of the page answered: a choice's first option, a number question's middle.
    func fullForm(_ page: PatientPageTests.Page) throws -> [String: String] {
        var form = ["csrf": try #require(page.csrf)]
        for match in page.html.matches(of: /name="([^"]+)" id="q-[^"]*" value="(\d+)"/) where form[String(match.1)] == nil {
            form[String(match.1)] = String(match.2)
        }
        for match in page.html.matches(of: /inputmode="numeric" spellcheck="false" name="([^"]+)"/) { form[String(match.1)] = "50" }
        return form
    }

    @Test(arguments: StoreKind.engines)
    func backSavesWhatIsValidWithoutAskingForACompletePage(_ kind: StoreKind) async throws {
        let app = try await TestApp.make(kind)
        try await app.application.test(.router) { client in
            let (link, _) = try await helper.invitationLink(client, app)
            let browser = Browser(client)
            let step = try await browser.get("\(link)/s/\(dimensionsStep)?lang=nb")
            #expect(step.html.contains(#"name="navigate" value="back""#), "Back is a button of the form")
            let csrf = try #require(step.csrf)
            // One answer of five (the others are required): Back still goes back, and keeps it.
            let back = try await browser.post("\(link)/s/\(dimensionsStep)?lang=nb", ["csrf": csrf, "MO": "2", "navigate": "back"])
            #expect(back.status == .seeOther)
            #expect(back.location == "\(link)/s/\(dimensionsStep - 1)?lang=nb")
            #expect(try await browser.get("\(link)/s/\(dimensionsStep)?lang=nb").html.contains(#"id="q-MO-2" value="2" checked"#))
            // An answer that cannot be taken never replaces an accepted one.
            let again = try await browser.post("\(link)/s/\(dimensionsStep)?lang=nb", ["csrf": csrf, "MO": "9", "navigate": "back"])
            #expect(again.status == .seeOther)
            let shown = try await browser.get("\(link)/s/\(dimensionsStep)?lang=nb")
            #expect(shown.html.contains(#"id="q-MO-2" value="2" checked"#))
            // The first step has no Back.
            #expect(!(try await browser.get("\(link)/s/1?lang=nb")).html.contains(#"value="back""#))
        }
    }

    @Test(arguments: StoreKind.engines)
    func changeOnTheReviewReturnsToTheReviewAfterSaving(_ kind: StoreKind) async throws {
        let app = try await TestApp.make(kind)
        try await app.application.test(.router) { client in
            let (link, _) = try await helper.invitationLink(client, app)
            let browser = Browser(client)
            let review = try await helper.answerAll(browser, link)
            let change = "\(link)/s/\(dimensionsStep)?lang=nb&return=review"
            #expect(review.html.contains(change.replacingOccurrences(of: "&", with: "&amp;")), "Change carries return=review")
            let step = try await browser.get(change)
            #expect(step.html.contains("Lagre og gå tilbake til oversikten"))
            #expect(step.html.contains(#"action="\#(change.replacingOccurrences(of: "&", with: "&amp;"))""#))
            var form = try fullForm(step)
            form["MO"] = "3"
            let saved = try await browser.post(change, form)
            #expect(saved.status == .seeOther)
            #expect(saved.location == "\(link)/review?lang=nb", "back to the review, not on to step \(dimensionsStep + 1)")
            let after = try await browser.get(try #require(saved.location))
            #expect(after.html.contains(#"<dt>Mobilitet (å bevege seg rundt)</dt>\#n<dd class="answer">Moderate problemer</dd>"#))
            // Without return=review, saving goes on to the next step as before.
            let onward = try await browser.post("\(link)/s/\(dimensionsStep)?lang=nb", form)
            #expect(onward.location == "\(link)/s/\(vasStep)?lang=nb")
        }
    }

    @Test(arguments: StoreKind.engines)
    func theLandingPageOffersToContinueAtTheFirstUnansweredStep(_ kind: StoreKind) async throws {
        let app = try await TestApp.make(kind)
        try await app.application.test(.router) { client in
            let (link, _) = try await helper.invitationLink(client, app)
            let browser = Browser(client)
            let fresh = try await browser.get("\(link)?lang=nb")
            #expect(fresh.html.contains(#"action="\#(link)/start?lang=nb""#) && fresh.html.contains(">Start</button>"))
            #expect(!fresh.html.contains("Fortsett"))
            for number in 1...2 {
                let page = try await browser.get("\(link)/s/\(number)?lang=nb")
                #expect(try await browser.post("\(link)/s/\(number)?lang=nb", try fullForm(page)).status == .seeOther)
            }
            let third = try await browser.get("\(link)/s/3?lang=nb")
            let total = try #require(third.html.firstMatch(of: /<progress max="(\d+)"/).map { String($0.1) })
            let resumed = try await browser.get("\(link)?lang=nb")
            #expect(resumed.html.contains(">Fortsett — steg 3 av \(total)</button>"))
            let onward = try await browser.post("\(link)/start?lang=nb", ["csrf": try #require(resumed.csrf), "respondent": "patient"])
            #expect(onward.location == "\(link)/s/3?lang=nb", "the start form continues at the first unanswered step")
            #expect(try await browser.get("\(link)?lang=nn").html.contains("Hald fram — steg 3 av \(total)"))
            #expect(try await browser.get("\(link)?lang=en").html.contains("Continue — step 3 of \(total)"))
            // A step of optional questions with one answer counts as answered (a skipped question is the patient's
            // choice); a step with a required question still open does not.
            _ = try await browser.post("\(link)/s/3?lang=nb", ["csrf": try #require(third.csrf), "13": "1", "navigate": "back"])
            #expect(try await browser.get("\(link)?lang=nb").html.contains(">Fortsett — steg 4 av \(total)<"))
            for number in 4..<dimensionsStep {
                let page = try await browser.get("\(link)/s/\(number)?lang=nb")
                #expect(try await browser.post("\(link)/s/\(number)?lang=nb", try fullForm(page)).status == .seeOther)
            }
            _ = try await browser.post(
                "\(link)/s/\(dimensionsStep)?lang=nb", ["csrf": try #require(third.csrf), "MO": "1", "navigate": "back"])
            #expect(try await browser.get("\(link)?lang=nb").html.contains(">Fortsett — steg \(dimensionsStep) av \(total)<"))
            // Everything answered: continue at the review.
            _ = try await helper.answerAll(browser, link)
            let done = try await browser.get("\(link)?lang=nb")
            #expect(done.html.contains(">Fortsett — se over svarene</button>"))
            let toReview = try await browser.post("\(link)/start?lang=nb", ["csrf": try #require(done.csrf), "respondent": "proxy"])
            #expect(toReview.location == "\(link)/review?lang=nb")
        }
    }

    @Test(arguments: StoreKind.engines)
    func theLanguageSwitchOnAStepKeepsWhatWasTyped(_ kind: StoreKind) async throws {
        let app = try await TestApp.make(kind)
        try await app.application.test(.router) { client in
            let (link, _) = try await helper.invitationLink(client, app)
            let browser = Browser(client)
            let step = try await browser.get("\(link)/s/\(dimensionsStep)?lang=nb")
            #expect(step.html.contains(#"name="switchLanguage" value="nn""#), "the switch is a button of the answer form")
            #expect(step.html.contains(##"href="#language-switch""##), "the header leads to it instead of leaving the page")
            let csrf = try #require(step.csrf)
            let switched = try await browser.post(
                "\(link)/s/\(dimensionsStep)?lang=nb", ["csrf": csrf, "MO": "3", "SC": "2", "switchLanguage": "en"])
            #expect(switched.status == .seeOther)
            #expect(switched.location == "\(link)/s/\(dimensionsStep)?lang=en")
            let english = try await browser.get(try #require(switched.location))
            #expect(english.html.contains(#"<html lang="en""#))
            #expect(english.html.contains(#"id="q-MO-3" value="3" checked"#) && english.html.contains(#"id="q-SC-2" value="2" checked"#))
            #expect(!english.html.contains("q-UA-error"), "a page half answered is no error when only the language changes")
            // A number that cannot be taken is shown again as typed, with its error, in the language chosen.
            let vas = try await browser.get("\(link)/s/\(vasStep)?lang=nb")
            let typed = try await browser.post(
                "\(link)/s/\(vasStep)?lang=nb", ["csrf": try #require(vas.csrf), "VAS": "7,5", "switchLanguage": "nn"])
            #expect(typed.status == .unprocessableContent)
            #expect(typed.html.contains(#"<html lang="nn""#))
            #expect(typed.html.contains(#"value="7,5""#))
            #expect(typed.html.contains("q-VAS-error"))
            #expect(typed.html.contains(#"action="\#(link)/s/\#(vasStep)?lang=nn""#))
        }
    }

    /// The landing page's estimate is the questions counted at 20 seconds each, not a fixed figure.
    @Test func theLandingPageTimeIsComputedFromTheQuestions() async throws {
        let app = try await TestApp.make()
        try await app.application.test(.router) { client in
            let (link, _) = try await helper.invitationLink(client, app)
            let questions = ["rand36", "eq5d-5l"].compactMap { app.services.catalogue.instrument($0) }
                .reduce(0) { $0 + $1.questionnaire.questions.count }
            let minutes = TimeEstimate.minutes(items: questions)
            #expect(minutes == 14, "36 + 6 questions at 20 s")
            let page = try await Browser(client).get("\(link)?lang=nb")
            #expect(page.html.contains("omtrent \(minutes) minutter"))
            #expect(page.html.contains("<dd>\(questions)</dd>"))
            #expect(!page.html.lowercased().contains("kort"))
        }
    }
}

/// Issue 15 item 7: the landing page asks who is filling in the form; the answer is stored with the response.
@Suite struct RespondentQuestionTests {
    typealias Browser = PatientPageTests.Browser
    let helper = PatientPageTests()

    @Test(arguments: StoreKind.engines)
    func theLandingPageAsksWhoAnswersAndTheResponseKeepsIt(_ kind: StoreKind) async throws {
        let app = try await TestApp.make(kind)
        try await app.application.test(.router) { client in
            let (link, courseId) = try await helper.invitationLink(client, app)
            let browser = Browser(client)
            let landing = try await browser.get("\(link)?lang=nn")
            #expect(landing.html.contains("Kven fyller ut skjemaet?") && !landing.html.contains(" checked"), "nothing chosen for them")
            let csrf = try #require(landing.csrf)
            let missing = try await browser.post("\(link)/start?lang=nn", ["csrf": csrf])
            #expect(missing.status == .unprocessableContent && missing.html.contains("Vel kven som fyller ut skjemaet."))
            #expect(missing.html.contains(#"<title>Feil:"#) && missing.html.contains(##"href="#respondent-patient""##))
            let forged = try await browser.post("\(link)/start?lang=nn", ["csrf": "wrong", "respondent": "proxy"])
            #expect(forged.status == .forbidden)
            let started = try await browser.post("\(link)/start?lang=nn", ["csrf": csrf, "respondent": "proxy"])
            #expect(started.status == .seeOther && started.location == "\(link)/s/1?lang=nn")
            #expect(try await browser.get("\(link)?lang=nn").html.contains(#"value="proxy" checked"#), "the choice is kept")
            let review = try await helper.answerAll(browser, link)
            #expect(try await browser.post("\(link)/submit?lang=nb", ["csrf": try #require(review.csrf)]).status == .seeOther)
            let invitation = try #require(try await app.store.course(courseId)?.invitations.first)
            let claimed = try await app.store.claimForwards(now: fixedNow, leaseUntil: fixedNow.addingTimeInterval(60), limit: 10)
            var forwarded: [ForwardedResponse] = []
            for claim in claimed {
                if let id = claim.responseId, let r = try await app.store.forwardedResponse(responseId: id) { forwarded.append(r) }
            }
            #expect(forwarded.count == 2 && forwarded.allSatisfy { $0.respondent == "proxy" && $0.invitationId == invitation.id })
        }
    }
}
