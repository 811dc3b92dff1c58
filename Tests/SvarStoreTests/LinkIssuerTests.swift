import Foundation
import SvarDomain
import SvarSQLite
import SvarServices
import SvarStore
import Testing

@Suite struct LinkIssuerTests {
    @Test func keysAreCreatedSealedAndRotatedWhileOldLinksStillVerify() async throws {
        let store = try SQLiteStore()
        let patient = try await enrol(store)
        let (course, _) = try await startCourse(
            store, patient: patient, plans: [plan("baseline", trigger: "x", opens: t0, closes: t0 + 21 * day)])
        let invitation = try #require(try await store.course(course)?.invitations.first)
        let first = try await LinkIssuer.load(store: store, vault: vault, publicURL: "https://svar.test", now: t0)
        #expect(try await store.signingKeys().map(\.id) == [1])
        let oldLink = try await first.issue(invitationId: invitation.id, actor: "t", now: t0)
        #expect(oldLink.expiresAt == invitation.closesAt)
        #expect(try await LinkIssuer.rotate(store: store, vault: vault, now: t0) == 2)
        let second = try await LinkIssuer.load(store: store, vault: vault, publicURL: "https://svar.test", now: t0)
        let newLink = try await second.issue(invitationId: invitation.id, actor: "t", now: t0)
        let oldToken = String(oldLink.url.dropFirst("https://svar.test/a/".count))
        let newToken = String(newLink.url.dropFirst("https://svar.test/a/".count))
        #expect(try second.verify(oldToken, now: t0).keyId == 1)
        #expect(try second.verify(newToken, now: t0).keyId == 2)
        #expect(throws: LinkTokenError.expired) { try second.verify(oldToken, now: t0 + 22 * day) }
        // A vault with another master key cannot open the stored signing keys.
        let otherVault = try IdentityVault(masterKey: Array(repeating: 9, count: 32))
        await #expect(throws: (any Error).self) {
            _ = try await LinkIssuer.load(store: store, vault: otherVault, publicURL: "https://svar.test", now: t0)
        }
    }

    @Test func aRetiredKeyVerifiesNoLinkAndTheNewestCannotBeRetired() async throws {
        let store = try SQLiteStore()
        let patient = try await enrol(store)
        let (course, _) = try await startCourse(
            store, patient: patient, plans: [plan("baseline", trigger: "x", opens: t0, closes: t0 + 21 * day)])
        let invitation = try #require(try await store.course(course)?.invitations.first)
        let first = try await LinkIssuer.load(store: store, vault: vault, publicURL: "https://svar.test", now: t0)
        let token = String(
            try await first.issue(invitationId: invitation.id, actor: "t", now: t0).url.dropFirst("https://svar.test/a/".count))
        await #expect(throws: StoreError.self, "the only key signs new links") {
            try await LinkIssuer.retire(store: store, id: 1, actor: "t", now: t0)
        }
        _ = try await LinkIssuer.rotate(store: store, vault: vault, now: t0)
        try await LinkIssuer.retire(store: store, id: 1, actor: "t", now: t0)
        await #expect(throws: StoreError.self, "retired once") { try await LinkIssuer.retire(store: store, id: 1, actor: "t", now: t0) }
        #expect(try await store.signingKeys().first { $0.id == 1 }?.retiredAt == t0)
        let reloaded = try await LinkIssuer.load(store: store, vault: vault, publicURL: "https://svar.test", now: t0)
        #expect(throws: LinkTokenError.self) { try reloaded.verify(token, now: t0) }
        #expect(try await store.auditEntries(subject: "signing key 1").map(\.action) == ["key.retire"])
    }
}
