import Foundation
import SvarDomain
import SvarRegistry
import SvarServices
import SvarStore
import SvarTestSupport
import Testing

/// A registry target that answers from a script: the pass's retry, dead-letter and disclosure logic in
/// isolation. The real targets are tested on their own (LocalRegistryStore here; the FHIR client against a
/// real receiver in SvarDeliveryTests).
final class ScriptedTarget: RegistryTarget, @unchecked Sendable {
    private let lock = NSLock()
    private var script: [ForwardOutcome]
    private(set) var received: [RegistrySubmission] = []
    let recipient = "scripted registry"
    let identityUse: IdentityUse

    init(_ script: [ForwardOutcome], identityUse: IdentityUse = .pseudonymOnly) {
        self.script = script
        self.identityUse = identityUse
    }

    func submit(_ submission: RegistrySubmission) async -> ForwardOutcome {
        lock.withLock {
            received.append(submission)
            return script.isEmpty ? .accepted(detail: "201 Created") : script.removeFirst()
        }
    }

    func erase(pseudonym: String, at: Date) async throws -> ErasureReport { ErasureReport(kept: ["scripted: kept"]) }
}

@Suite struct ForwardingPassTests {
    @Test(arguments: StoreKind.engines)
    func everyResponseReachesTheLocalRegistryOnceWithItsDisclosure(_ kind: StoreKind) async throws {
        let f = try await ForwardingFixture.make(kind)
        let (local, folder) = try f.localStore()
        defer { try? FileManager.default.removeItem(at: folder) }
        let patient = f.patients[0]
        #expect(try await f.forwards().map(\.state) == [.queued, .queued], "one forward per response, queued with the submission")
        let report = try await f.pass(local).run(now: t0 + 7200)
        #expect(report.forwarded == 2 && report.retrying == 0 && report.deadLettered == 0)
        #expect(try await f.pass(local).run(now: t0 + 7300) == ForwardingPass.Report(), "a second pass sends nothing")
        let pseudonym = f.vault.registryPseudonym(patientId: patient.patientId)
        #expect(pseudonym != patient.patientId && pseudonym.count == 32)
        #expect(try await local.resultCount(pseudonym: pseudonym) == 2)
        #expect(try await local.identityNumber(pseudonym: pseudonym) == patient.number, "the number is in the registry's own vault")
        let disclosures = try await f.store.disclosures(subject: patient.patientId, limit: 10)
        #expect(disclosures.count == 2)
        #expect(disclosures.allSatisfy { $0.recipient == local.recipient && $0.basis.contains("§ 3-2") && $0.receipt.hasPrefix("stored") })
        #expect(
            Set(disclosures.map { $0.dataSet.split(separator: " ").prefix(2).joined(separator: " ") })
                == ["QuestionnaireResponse rand36", "QuestionnaireResponse eq5d-5l"])
        #expect(
            try await f.store.auditEntries(subject: patient.patientId).contains { $0.actor == "forwarder" && $0.action == "identity.read" },
            "reading the number for the registry is audited")
        #expect(try await f.forwards().allSatisfy { $0.state == .sent })
    }

    @Test(arguments: StoreKind.engines)
    func aPseudonymousTargetNeverSeesTheNumberAndTheVaultIsNotOpened(_ kind: StoreKind) async throws {
        let f = try await ForwardingFixture.make(kind)
        let target = ScriptedTarget([])
        _ = try await f.pass(target).run(now: t0 + 7200)
        #expect(target.received.count == 2)
        for submission in target.received {
            #expect(submission.identity == nil && !submission.subject.isIdentityNumber)
            #expect(!submission.bundle.contains(f.patients[0].number) && !submission.bundle.contains(f.patients[0].patientId))
            #expect(submission.idempotencyKey == "svar-forward-\(submission.response.responseId)")
        }
        #expect(try await !f.store.auditEntries(subject: f.patients[0].patientId).contains { $0.action == "identity.read" })
        #expect(
            try await f.store.disclosures(subject: f.patients[0].patientId, limit: 10).allSatisfy {
                $0.identifiedBy == "registry pseudonym"
            })
    }

    @Test(arguments: StoreKind.engines)
    func aRegistryEntitledToTheNumberGetsItUnderItsOID(_ kind: StoreKind) async throws {
        let f = try await ForwardingFixture.make(kind)
        let target = ScriptedTarget([], identityUse: .patientIdentifier)
        _ = try await f.pass(target).run(now: t0 + 7200)
        let subject = try #require(target.received.first?.subject)
        #expect(subject.isIdentityNumber && subject.value == f.patients[0].number && subject.system == "urn:oid:2.16.578.1.12.4.1.4.1")
        #expect(
            try await f.store.disclosures(subject: f.patients[0].patientId, limit: 10).allSatisfy { $0.identifiedBy == "identity number" })
    }

    @Test(arguments: StoreKind.engines)
    func transientFailuresWaitWithBackoffAndHonourRetryAfter(_ kind: StoreKind) async throws {
        let f = try await ForwardingFixture.make(kind, instruments: ["eq5d-5l"])
        let target = ScriptedTarget([
            .transient(reason: "registry answered 503", retryAfter: nil),
            .transient(reason: "registry answered 429", retryAfter: 3600),
        ])
        var policy = ForwardingPolicy()
        policy.backoff = Backoff(first: 30, longest: 600)
        let pass = f.pass(target, policy: policy)
        #expect(try await pass.run(now: t0 + 7200).retrying == 1)
        #expect(try await pass.run(now: t0 + 7200 + 20).retrying == 0, "not due before the backoff (30 s with half jitter)")
        #expect(try await pass.run(now: t0 + 7200 + 23).retrying == 1, "due after 22.5 s; the 429 asks for an hour")
        #expect(try await pass.run(now: t0 + 7223 + 3000) == ForwardingPass.Report(), "Retry-After is honoured")
        #expect(try await pass.run(now: t0 + 7223 + 3600).forwarded == 1)
        #expect(target.received.count == 3)
        #expect(Set(target.received.map(\.bundle)).count == 1, "every retry sends the very same Bundle")
    }

    @Test(arguments: StoreKind.engines)
    func aRefusedBundleGoesToTheDeadLetterListAndCanBeSentAgain(_ kind: StoreKind) async throws {
        let f = try await ForwardingFixture.make(kind, instruments: ["eq5d-5l"])
        let target = ScriptedTarget([.permanent(reason: "registry refused the Bundle (422): unknown questionnaire")])
        #expect(try await f.pass(target).run(now: t0 + 7200).deadLettered == 1)
        let failed = try await f.store.failedForwards()
        try #require(failed.count == 1)
        #expect(failed[0].reason.contains("422") && failed[0].attempts == 1 && failed[0].patientId == f.patients[0].patientId)
        #expect(try await f.store.disclosures(subject: nil, limit: 10).isEmpty, "nothing was disclosed")
        await #expect(throws: StoreError.self) { try await f.store.retryForward(id: "no-such-forward", actor: "test", at: t0 + 7300) }
        try await f.store.retryForward(id: failed[0].id, actor: "registry-staff", at: t0 + 7300)
        await #expect(throws: StoreError.self, "only a failed forward can be retried") {
            try await f.store.retryForward(id: failed[0].id, actor: "registry-staff", at: t0 + 7300)
        }
        #expect(try await f.pass(target).run(now: t0 + 7300).forwarded == 1)
        #expect(try await f.store.failedForwards().isEmpty)
        #expect(
            try await f.store.auditEntries(subject: f.patients[0].patientId).contains {
                $0.action == "forward.retry" && $0.actor == "registry-staff"
            })
    }

    @Test(arguments: StoreKind.engines)
    func tooManyTransientFailuresEndInTheDeadLetterList(_ kind: StoreKind) async throws {
        let f = try await ForwardingFixture.make(kind, instruments: ["eq5d-5l"])
        let target = ScriptedTarget(
            Array(repeating: .transient(reason: "registry unreachable: connection refused", retryAfter: nil), count: 3))
        var policy = ForwardingPolicy()
        policy.attempts = 3
        policy.backoff = Backoff(first: 1, longest: 1)
        var now = t0 + 7200
        var report = ForwardingPass.Report()
        for _ in 0..<3 {
            let r = try await f.pass(target, policy: policy).run(now: now)
            report.retrying += r.retrying
            report.deadLettered += r.deadLettered
            now += 10
        }
        #expect(report.retrying == 2 && report.deadLettered == 1)
        #expect(
            try await f.store.failedForwards().first?.reason == "gave up after 3 attempts; last: registry unreachable: connection refused")
    }

    @Test(arguments: StoreKind.engines)
    func nothingOfAReservedPatientIsForwarded(_ kind: StoreKind) async throws {
        let f = try await ForwardingFixture.make(kind, patients: 2)
        let target = ScriptedTarget([])
        _ = try await f.store.reserve(patientId: f.patients[0].patientId, actor: "api", at: t0 + 3700)
        let report = try await f.pass(target).run(now: t0 + 7200)
        #expect(report.forwarded == 2)
        #expect(target.received.allSatisfy { $0.response.patientId == f.patients[1].patientId })
        #expect(
            try await f.store.outbox(patientId: f.patients[0].patientId).filter { $0.kind == .forward }.map(\.state) == [
                .cancelled, .cancelled,
            ])
        await #expect(throws: StoreError.self, "a reserved patient's forward cannot be sent again by hand") {
            let id = try await f.store.outbox(patientId: f.patients[0].patientId)[0].id
            try await f.store.execute(rawSQL: "UPDATE outbox SET state = 'failed' WHERE id = '\(id)'")
            try await f.store.retryForward(id: id, actor: "test", at: t0 + 7300)
        }
    }

    @Test(arguments: StoreKind.engines)
    func aDeletionErasesSvarAndTheLocalRegistryAndKeepsTheDisclosureLog(_ kind: StoreKind) async throws {
        let f = try await ForwardingFixture.make(kind, patients: 2)
        let (local, folder) = try f.localStore()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try await f.pass(local).run(now: t0 + 7200).forwarded == 4)
        let gone = f.patients[0]
        let pseudonym = f.vault.registryPseudonym(patientId: gone.patientId)
        let report = try await f.store.deletePatientData(patientId: gone.patientId, actor: "api", at: t0 + 86_400)
        #expect(report.state == .erasingAtRegistry)
        #expect(report.erased.contains("responses: 2") && report.erased.contains("identity (vault): 1"), "\(report.erased)")
        #expect(report.kept.contains { $0.contains("disclosure log: 2 response(s) disclosed to \(local.recipient)") }, "\(report.kept)")
        #expect(try await f.store.responses(invitationId: gone.invitationId).isEmpty)
        #expect(try await f.store.readIdentity(of: gone.patientId, in: .everyUnit, actor: "test", purpose: "test", at: t0 + 86_400) == nil)
        #expect(try await f.store.patient(gone.patientId)?.isReserved == true, "a deletion also stops everything")
        let pass = try await f.pass(local).run(now: t0 + 86_400 + 60)
        #expect(pass.erased == 1 && pass.forwarded == 0)
        let done = try #require(try await f.store.deletionReport(patientId: gone.patientId))
        #expect(done.state == .done && done.completedAt != nil)
        #expect(done.erased.contains("registry: local registry store: 2 result(s) with their scores"), "\(done.erased)")
        #expect(try await local.resultCount(pseudonym: pseudonym) == 0)
        #expect(try await local.identityNumber(pseudonym: pseudonym) == nil)
        #expect(try await local.resultCount() == 2, "the other patient's results stay")
        #expect(try await f.store.disclosures(subject: gone.patientId, limit: 10).count == 2, "§ 4-7: the earlier forwards stay on record")
        #expect(
            try await f.store.deletePatientData(patientId: gone.patientId, actor: "api", at: t0 + 90_000) == done,
            "asking again changes nothing")
        await #expect(throws: StoreError.self) { try await f.store.deletePatientData(patientId: "nobody", actor: "api", at: t0) }
    }

    @Test(arguments: StoreKind.engines)
    func aDeletionBeforeForwardingMeansTheRegistryNeverGetsIt(_ kind: StoreKind) async throws {
        let f = try await ForwardingFixture.make(kind)
        let target = ScriptedTarget([])
        _ = try await f.store.deletePatientData(patientId: f.patients[0].patientId, actor: "api", at: t0 + 3700)
        let report = try await f.pass(target).run(now: t0 + 7200)
        #expect(report.forwarded == 0 && report.erased == 1 && target.received.isEmpty)
        #expect(try await f.store.deletionReport(patientId: f.patients[0].patientId)?.kept.contains("registry: scripted: kept") == true)
    }
}
