import ArgumentParser
import Foundation
import SvarDomain
import SvarServices
import SvarStore

/// Local accounts for the clinician pages (a contract: `svar users add --username U --password-stdin --role R
/// --unit RESH…`, `svar users disable U`, `svar users totp --username U`).
struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the local accounts of clinicians and registry staff.",
        subcommands: [Add.self, Disable.self, Totp.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an account; the password is read from standard input (one line).",
            discussion:
                "Roles: behandler, kvarus-kontakt, registerkontakt, registry-admin. Every role but registry-admin needs --unit. "
                + "With --totp, prints the otpauth:// URL for an authenticator app; roles in SVAR_REQUIRE_TOTP (default "
                + "kvarus-kontakt, registry-admin) always get one."
        )

        @Option(name: .long, help: "User name (2–64 letters, digits, . _ - @).")
        var username: String

        @Flag(name: .long, help: "Read the password from standard input (required: passwords never go on the command line).")
        var passwordStdin = false

        @Option(name: .long, help: "behandler, kvarus-kontakt, registerkontakt or registry-admin.")
        var role: String

        @Option(name: .long, help: "A RESH-id the user works for (repeat for several).")
        var unit: [String] = []

        @Flag(name: .long, help: "Require a one-time code from an authenticator app at login.")
        var totp = false

        func run() async throws {
            guard passwordStdin else { throw fail("--password-stdin: required; pipe the password in (it never goes on the command line)") }
            guard let parsedRole = Role(rawValue: role) else {
                throw fail("--role: '\(role)' is not one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let password = String(decoding: readAllStandardInput(), as: UTF8.self).trimmingCharacters(in: .newlines)
            let runtime = try await Runtime.load()
            let required = runtime.configuration.rolesRequiringTOTP.contains(parsedRole)
            if required && !totp {
                print("the role \(parsedRole.rawValue) signs in with a one-time code (SVAR_REQUIRE_TOTP): TOTP is turned on")
            }
            do {
                let url = try await ClinicianAccounts(store: runtime.store, vault: runtime.vault)
                    .add(
                        username: username, password: password, role: parsedRole, units: unit, totp: totp || required,
                        actor: commandLineActor(), at: Date())
                print("user \(username) added (\(parsedRole.rawValue)\(unit.isEmpty ? "" : ", units \(unit.joined(separator: ", "))"))")
                if let url { print("authenticator: \(url)") }
            } catch let error as ClinicianAccounts.AccountError {
                let option = ["username": "--username", "password": "password", "unit": "--unit"][error.field] ?? error.field
                throw fail("\(option): \(error.reason)")
            }
        }
    }

    struct Totp: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give an account a new TOTP secret and print the otpauth:// URL for its authenticator app.",
            discussion: "The old secret (if any) stops working and the account's sessions end. Hand the URL to the user privately.")

        @Option(name: .long, help: "The user name.")
        var username: String

        func run() async throws {
            let runtime = try await Runtime.load()
            do {
                let url = try await ClinicianAccounts(store: runtime.store, vault: runtime.vault)
                    .enableTOTP(username: username, actor: commandLineActor(), at: Date())
                print("user \(username) now signs in with a one-time code")
                print("authenticator: \(url)")
            } catch StoreError.notFound {
                throw fail("--username: no user '\(username)'")
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable an account and end its sessions (the account and its audit trail stay).")

        @Argument(help: "The user name.")
        var username: String

        func run() async throws {
            let runtime = try await Runtime.load(needsVault: false)
            do {
                try await runtime.store.disableUser(username: username, actor: commandLineActor(), at: Date())
            } catch {
                throw fail("USERNAME: no user '\(username)'")
            }
            print("user \(username) disabled")
        }
    }
}
