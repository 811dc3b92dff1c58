import Foundation
import SvarDomain
import SvarStore
import SvarTestSupport
import Testing

/// Paradata on every engine (issue 15 item 9): the first showing and the first saving of each step, read back with
/// the link (so a page view writes only once), listed for the export without reserved patients, erased on deletion.
@Suite struct StoreParadataContractTests {
    @Test(arguments: StoreKind.allCases)
    func theFirstShowingAndSavingOfAStepAreKept(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let (_, invitation) = try await invited(store, number: "01914796756")
        let nonce = [UInt8](repeating: 7, count: 32)
        try await store.addLink(invitationId: invitation, nonceHash: nonce, expiresAt: t0 + day, actor: "t", at: t0)
        try await store.recordStepView(invitationId: invitation, step: 1, saved: false, at: t0 + 2 * hour)
        try await store.recordStepView(invitationId: invitation, step: 1, saved: false, at: t0 + 3 * hour)
        try await store.recordStepView(invitationId: invitation, step: 1, saved: true, at: t0 + 4 * hour)
        try await store.recordStepView(invitationId: invitation, step: 1, saved: true, at: t0 + 5 * hour)
        try await store.recordStepView(invitationId: invitation, step: 2, saved: false, at: t0 + 6 * hour)
        let lookup = try #require(try await store.lookUpLink(invitationId: invitation, nonceHash: nonce))
        #expect(lookup.stepsShown == [1, 2] && lookup.stepsSaved == [1])
        // With drafts the lookup has a row per draft; the steps come once for all of them.
        try await store.saveDraft(
            invitationId: invitation, instrument: "rand36", answersJSON: #"{"1":2}"#, language: "nb", at: t0 + 7 * hour)
        try await store.saveDraft(
            invitationId: invitation, instrument: "eq5d-5l", answersJSON: #"{"MO":1}"#, language: "nb", at: t0 + 7 * hour)
        let drafted = try #require(try await store.lookUpLink(invitationId: invitation, nonceHash: nonce))
        #expect(drafted.stepsShown == [1, 2] && drafted.stepsSaved == [1] && drafted.drafts.count == 2)
        #expect(try await store.lookUpLink(invitationId: invitation, nonceHash: [UInt8](repeating: 8, count: 32)) == nil, "another nonce")
        let views = try await store.stepViews()
        #expect(views.map(\.step) == [1, 2] && views.allSatisfy { $0.invitationId == invitation && $0.unit == "4208" })
        #expect(views[0].firstShown == t0 + 2 * hour && views[0].firstSaved == t0 + 4 * hour, "the first times stay")
        #expect(views[1].firstShown == t0 + 6 * hour && views[1].firstSaved == nil, "where the patient stopped")
        #expect(views[0].milestone == "baseline" && views[0].state == "invited")
    }

    @Test(arguments: StoreKind.allCases)
    func reservedAndDeletedPatientsAreLeftOutAndErased(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let (reserved, first) = try await invited(store, number: "01914796756")
        let (deleted, second) = try await invited(store, number: "02838897382")
        let (_, third) = try await invited(store, number: "15076500565")
        for id in [first, second, third] { try await store.recordStepView(invitationId: id, step: 1, saved: true, at: t0 + 2 * hour) }
        _ = try await store.reserve(patientId: reserved, actor: "t", at: t0 + 3 * hour)
        let report = try await store.deletePatientData(patientId: deleted, actor: "registry", at: t0 + day)
        #expect(report.erased.contains("step views: 1"), "\(report.erased)")
        #expect(try await store.stepViews().map(\.invitationId) == [third])
    }
}
