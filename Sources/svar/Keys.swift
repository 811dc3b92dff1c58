import ArgumentParser
import Foundation
import SvarDomain
import SvarServices
import SvarStore

/// The keys that sign patient links: list, rotate (a new newest key), retire (an old key stops verifying).
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the keys that sign patient links.",
        subcommands: [List.self, Rotate.self, Retire.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the link-signing keys: id, created, retired (the newest signs new links).")

        func run() async throws {
            let runtime = try await Runtime.load(needsVault: false)
            let keys = try await runtime.store.signingKeys()
            let newest = keys.filter { $0.retiredAt == nil }.map(\.id).max()
            for key in keys {
                let state =
                    key.retiredAt.map { "retired \(OsloTime.iso8601($0))" } ?? (key.id == newest ? "signs new links" : "verifies old links")
                print("\(key.id)\tcreated \(OsloTime.iso8601(key.createdAt))\t\(state)")
            }
        }
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Retire a link-signing key: links signed with it stop opening (restart svar serve to apply).",
            discussion:
                "Retire a key once every link it signed may stop working, or at once if it may have leaked. The newest key cannot "
                + "be retired: rotate first."
        )

        @Argument(help: "The key id (see svar keys list).")
        var keyId: UInt32

        func run() async throws {
            let runtime = try await Runtime.load(needsVault: false)
            do {
                try await LinkIssuer.retire(store: runtime.store, id: keyId, actor: commandLineActor(), now: Date())
            } catch let error as StoreError {
                throw fail("KEYID: \(error)")
            }
            print("signing key \(keyId) is retired: links signed with it no longer open (after svar serve restarts)")
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a new signing key: new links use it; links signed with older keys keep working until they expire."
        )

        func run() async throws {
            let runtime = try await Runtime.load()
            let id = try await LinkIssuer.rotate(store: runtime.store, vault: runtime.vault, now: Date())
            print("signing key \(id) is now used for new links")
        }
    }
}
