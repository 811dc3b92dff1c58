import ArgumentParser
import Foundation

/// The `svar` command line: run the service, score answers, manage instruments.
@main
struct Svar: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "svar",
        abstract: "Svar collects patient-reported questionnaires (PROM/PREM) for Norwegian medical quality registries.",
        discussion: """
            Configuration comes from environment variables (see README.md): SVAR_HOST, SVAR_PORT, SVAR_DATABASE_URL,
            SVAR_API_TOKEN, SVAR_VAULT_KEY (or SVAR_VAULT_KEY_FILE), SVAR_PUBLIC_URL, SVAR_MODE, SVAR_WORKERS,
            SVAR_PROTOCOL, SVAR_INSTRUMENTS_DIR, SVAR_WEB_DIR, SVAR_TEXT_PACKS_DIR, LOG_LEVEL.
            """,
        version: version,
        subcommands: [
            Serve.self, Demo.self, Tick.self, Deliver.self, Forward.self, Forwarding.self, Export.self, Report.self, Users.self,
            ScoreCommand.self, Instruments.self, Keys.self, Migrate.self, StoreCommand.self,
        ]
    )

    /// Every file Svar creates (the databases and their WAL/SHM, the file mailbox, exports) is the owner's
    /// alone (0600, folders 0700), whatever umask the shell had: they hold health data or secrets.
    static func main() async {
        umask(0o077)
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// Prints a message to standard error, prefixed with the command, and ends with exit code 1.
/// Who did it, for the audit log, when a command changes something: the operator's login name.
func commandLineActor() -> String { "cli:\(ProcessInfo.processInfo.environment["USER"] ?? "operator")" }

func fail(_ message: String) -> ExitCode {
    printError("svar: \(message)")
    return ExitCode(1)
}
