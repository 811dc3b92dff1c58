import ArgumentParser
import Foundation
import Logging
import SvarDomain
import SvarInstruments
import SvarRegistry
import SvarServices
import SvarStore

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a fresh demo database with fictional units and patients, then run Svar on 127.0.0.1.",
        discussion: """
            Everything is fictional: synthetic identity numbers (month + 80), invented names and addresses. The demo
            folder holds the database, a vault key made for the demo and the file mailbox (mailbox/). Each run starts afresh.
            """
    )

    @Option(name: .long, help: "Folder for the demo database and key.")
    var directory = "svar-demo"

    @Flag(name: .long, help: "Create the demo data and exit without starting the server.")
    var noServe = false

    func run() async throws {
        let folder = URL(fileURLWithPath: directory)
        let fm = FileManager.default
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in ["svar.sqlite", "svar.sqlite-wal", "svar.sqlite-shm", "registry.sqlite", "registry.sqlite-wal", "registry.sqlite-shm"] {
            try? fm.removeItem(at: folder.appendingPathComponent(name))
        }
        let keyFile = folder.appendingPathComponent("vault.key")
        try? fm.removeItem(at: keyFile)
        // Created readable by the owner only from the first byte.
        guard
            fm.createFile(
                atPath: keyFile.path, contents: Data((IdentityVault.generateKeyBase64() + "\n").utf8),
                attributes: [.posixPermissions: 0o600])
        else {
            throw fail("cannot write \(keyFile.path)")
        }
        let token = "demo-" + UUID().uuidString.lowercased()
        var environment = ProcessInfo.processInfo.environment
        environment["SVAR_MODE"] = "demo"
        environment["SVAR_DATABASE_URL"] = "sqlite:" + folder.appendingPathComponent("svar.sqlite").path
        environment["SVAR_DATABASE_PASSWORD_FILE"] = nil
        environment["SVAR_VAULT_KEY"] = nil
        environment["SVAR_VAULT_KEY_FILE"] = keyFile.path
        environment["SVAR_API_TOKEN"] = token
        let mailbox = folder.appendingPathComponent("mailbox")
        if environment["SVAR_SMTP_URL", default: ""].isEmpty {
            try? fm.removeItem(at: mailbox)
            environment["SVAR_MAILBOX_DIR"] = mailbox.path
        }
        let runtime = try await Runtime.load(environment)
        say("Svar demo — everything here is fictional.")
        say("  created a new vault key for the demo: \(keyFile.path) (never use it for real data)")
        say("  database: \(folder.appendingPathComponent("svar.sqlite").path)")
        let summary = try await DemoData(runtime: runtime, now: Date()).populate()
        let delivery = try loadDelivery(runtime, environment: environment)
        let sent = try await makeDeliveryPass(runtime, delivery: delivery, logger: Logger(label: "svar-demo"), now: Date()).run(now: Date())
        await delivery.shutdown()
        // A clinician account for the demo (a fresh password each run) and a patient link to try the other side.
        let password = "demo-" + UUID().uuidString.lowercased().prefix(13)
        var accounts = ClinicianAccounts(store: runtime.store, vault: runtime.vault)
        accounts.bcryptCost = 10
        _ = try await accounts.add(
            username: "behandler", password: String(password), role: .behandler, units: ["4208", "4209"], totp: false,
            actor: "demo", at: Date())
        let links = try await LinkIssuer.load(
            store: runtime.store, vault: runtime.vault, publicURL: runtime.configuration.publicURL, now: Date())
        let patientLink = try await links.issue(invitationId: summary.openInvitation, actor: "demo", now: Date()).url
        let base = runtime.configuration.publicURL
        say(
            """
              \(summary.patients) fictional patients at \(summary.units) units; scheduler pass: invited \(summary.report.invited), \
            expired \(summary.report.expired), nudges \(summary.report.nudges); \
            \(summary.answered) questionnaires answered (fictional answers).

            Clinician pages: \(base)/login — user behandler, password \(password) (units 4208 and 4209).
            A patient's questionnaire: \(patientLink)

            Try the API (API token for this demo: \(token)):
              curl -s \(base)/health
              curl -s -H 'Authorization: Bearer \(token)' \(base)/api/v1/units
              curl -s -H 'Authorization: Bearer \(token)' \(base)/api/v1/courses/\(summary.followUpCourse) \
            # due for the one-year follow-up
              curl -s -X POST -H 'Authorization: Bearer \(token)' \(base)/api/v1/invitations/\(summary.followUpInvitation)/link
              curl -s -H 'Authorization: Bearer \(token)' \(base)/api/v1/nudges
            Invitations sent: \(sent.sent), as e-mail files in \(delivery.mailboxDirectory?.path ?? "(SMTP)") — open one in a mail program
            (or a text editor) and follow its link while the demo runs.
            Run a scheduler pass at another time (same database):
              SVAR_DATABASE_URL=sqlite:\(folder.appendingPathComponent("svar.sqlite").path) \
            SVAR_VAULT_KEY_FILE=\(keyFile.path) svar tick --now 2027-05-01T09:00
            """)
        if noServe { return }
        say("Serving on \(base) — stop with Ctrl-C.")
        try await serve(runtime, environment: environment)
    }
}

/// The fictional population of the demo: patients at every stage of the pathway.
struct DemoData {
    let runtime: Runtime
    let now: Date

    struct Summary {
        var units = 0
        var patients = 0
        var followUpCourse = ""
        var followUpInvitation = ""
        /// An open baseline invitation of a patient at unit 4208, for the printed patient link.
        var openInvitation = ""
        var answered = 0
        var report = TickReport()
    }

    func populate() async throws -> Summary {
        let store = runtime.store
        let enrolment = Enrolment(store: store, vault: runtime.vault, mode: .demo)
        let pathways = Pathways(store: store, scheduleProtocol: runtime.scheduleProtocol)
        let today = OsloTime.date(of: now)
        var summary = Summary()
        let units = [
            Unit(resh: "4208", name: "Demo poliklinikk Nord"), Unit(resh: "4209", name: "Demo døgnenhet Sør"),
            Unit(resh: "4210", name: "Demo poliklinikk Vest"),
        ]
        for unit in units { try await store.createUnit(unit, actor: "demo", at: now) }
        summary.units = units.count
        let answeredBefore = try await addHistories(enrolment: enrolment, pathways: pathways, today: today)
        summary.patients += Self.histories.count
        let names = [
            "Kari Demo", "Ola Prøve", "Ingrid Test", "Per Eksempel", "Anne Fiktiv", "Nils Oppdiktet", "Sigrid Demo",
            "Lars Prøve", "Marit Test", "Jon Eksempel", "Liv Fiktiv", "Odd Oppdiktet", "Berit Demo", "Arne Prøve",
            "Hilde Test", "Knut Eksempel", "Solveig Fiktiv", "Tor Oppdiktet", "Eva Demo", "Geir Prøve",
        ]
        let languages = ["nb", "nn", "en", "nb"]
        var individual = 100
        for (i, name) in names.enumerated() {
            guard let birth = LocalDate(year: 1960 + i, month: i % 12 + 1, day: i % 27 + 1) else { continue }
            var number: String?
            while number == nil {
                individual += 1
                number = IdentityNumber.synthetic(birthDate: birth, individual: individual)
            }
            let request = Enrolment.Request(
                identityNumber: number ?? "", name: name,
                email: "pasient\(i + 1)@demo.invalid", mobile: "+4740000\(String(format: "%03d", i + 1))",
                language: languages[i % languages.count], birthDate: birth.description)
            guard case .created(let patientId) = try await enrolment.enrol(request, actor: "demo", at: now) else { continue }
            summary.patients += 1
            let courseId = RecordId.make()
            try await store.createCourse(
                NewCourse(
                    id: courseId, patientId: patientId, unit: units[i % units.count].resh,
                    type: i >= 18 ? .D11 : .D01), actor: "demo", at: now)
            for (type, daysAgo) in Self.stage(i, today: today) {
                _ = try await pathways.record(
                    courseId: courseId, type: type, date: today.adding(days: -daysAgo), unit: nil,
                    nprCode: nil, actor: "demo", at: now)
            }
            if i == 13 { summary.followUpCourse = courseId }
            if i == 14 { _ = try await store.reserve(patientId: patientId, actor: "demo", at: now) }
        }
        // No e-mail and no mobile: the delivery pass cannot reach this patient, so the follow-up list has one.
        if let birth = LocalDate(year: 1988, month: 8, day: 8),
            let number = (1...99).lazy.compactMap({ IdentityNumber.synthetic(birthDate: birth, individual: 700 + $0) }).first,
            case .created(let patientId) = try await enrolment.enrol(
                Enrolment.Request(identityNumber: number, name: "Ragnar Utenkontakt", birthDate: birth.description), actor: "demo", at: now)
        {
            let courseId = RecordId.make()
            try await store.createCourse(NewCourse(id: courseId, patientId: patientId, unit: "4208", type: .D01), actor: "demo", at: now)
            _ = try await pathways.record(
                courseId: courseId, type: .start, date: today.adding(days: -1), unit: nil, nprCode: nil, actor: "demo", at: now)
            summary.patients += 1
        }
        summary.report = try await SchedulerPass(store: store, scheduleProtocol: runtime.scheduleProtocol).run(now: now)
        if let course = try await store.course(summary.followUpCourse),
            let followUp = course.invitations.first(where: { $0.milestone == "followUp1y" })
        {
            summary.followUpInvitation = followUp.id
        }
        summary.answered = try await answerSome(summary: &summary) + answeredBefore
        return summary
    }

    /// Fictional answers for the courses under way (patients 5–9 at their evaluation, 15–17 earlier), scored by
    /// the real instruments, so the clinician pages have results and charts to show; and the link's invitation.
    func answerSome(summary: inout Summary) async throws -> Int {
        var answered = 0
        for (i, patient) in try await runtime.store.courseSummaries(in: .everyUnit).sorted(by: { $0.registeredAt < $1.registeredAt })
            .enumerated()
        {
            // The one-year follow-up stays open: the printed curl commands show it.
            guard patient.courseId != summary.followUpCourse, let course = try await runtime.store.course(patient.courseId) else {
                continue
            }
            for invitation in course.invitations where [.invited, .reminded].contains(invitation.state) {
                if summary.openInvitation.isEmpty, invitation.milestone == "baseline", course.unit == "4208" {
                    summary.openInvitation = invitation.id
                    continue
                }
                guard i % 3 != 0 else { continue }
                var responses: [SubmittedResponse] = []
                for id in invitation.instruments {
                    guard let instrument = runtime.catalogue.instrument(id) else { continue }
                    var answers: [(String, JSONValue)] = []
                    for (n, question) in instrument.questionnaire.questions.enumerated() {
                        if let codes = question.answerOption?.compactMap({ Int($0.valueCoding.code) }), !codes.isEmpty {
                            answers.append((question.linkId, .int(codes[(i + n) % codes.count])))
                        } else if question.type == .integer {
                            let low = question.minValue ?? 0
                            let high = max(low, question.maxValue ?? 100)
                            answers.append((question.linkId, .int(low + (i * 37 + n * 11) % (high - low + 1))))
                        }
                    }
                    let json = JSONValue.object(answers)
                    let checked = try instrument.checkAnswers(json)
                    let score = try instrument.score(checked)
                    responses.append(
                        SubmittedResponse(
                            instrument: id, instrumentVersion: instrument.questionnaire.version,
                            answersJSON: json.serialized, scores: score.stored, safetyItems: instrument.safetyFlags(checked).map(\.item)))
                }
                try await runtime.store.submit(
                    invitationId: invitation.id, responses: responses, respondent: "patient", language: "nb", at: now)
                answered += 1
            }
        }
        return answered
    }

    /// Pathway events (type, days ago) for demo patient `i`: new starts, courses under way, ended courses,
    /// one ended a year ago (its one-year follow-up is open now), and courses overdue for an evaluation.
    static func stage(_ i: Int, today: LocalDate) -> [(PathwayEventType, Int)] {
        switch i {
        case 0...4: return [(.start, 2 + i)]
        case 5...9: return [(.start, 60 + i), (.firstAttendance, 55 + i), (.clinicalDecision, 40 + i), (.evaluation, 3 + i)]
        case 10...12: return [(.start, 150 + i), (.firstAttendance, 140 + i), (.evaluation, 60 + i), (.end, 4 + i)]
        case 13:
            let end = today.adding(months: -12).adding(days: 5)
            return [
                (.start, end.days(until: today) + 200), (.firstAttendance, end.days(until: today) + 190),
                (.evaluation, end.days(until: today) + 60), (.end, end.days(until: today)),
            ]
        case 14: return [(.start, 20)]
        case 15...17: return [(.start, 200 + i), (.firstAttendance, 190 + i), (.evaluation, 100 + i)]
        default: return [(.start, 1)]
        }
    }
}
