import ArgumentParser
import Foundation
import SvarDomain
import SvarServices

struct Tick: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one scheduler pass (invite, remind, expire, nudge) at a given time and print what it did.",
        discussion: "Reads the same SVAR_* variables as svar serve, so both work on the same database."
    )

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The time of the pass, ISO 8601: 2027-05-01T09:00 (seconds and an offset are optional; without an offset: Oslo time). "
                + "Default: now.")
    )
    var now: String?

    func run() async throws {
        let instant = try passTime(now)
        let runtime = try await Runtime.load(needsVault: false)
        let report = try await SchedulerPass(store: runtime.store, scheduleProtocol: runtime.scheduleProtocol).run(now: instant)
        print(
            "tick at \(OsloTime.iso8601(instant)): invited \(report.invited), reminded \(report.reminded), expired "
                + "\(report.expired), cancelled \(report.cancelledReminders) stale reminder(s), nudges \(report.nudges)"
        )
    }
}

/// The `--now` of `svar tick` and `svar deliver`: ISO 8601, Oslo time without an offset; now when absent.
func passTime(_ text: String?) throws -> Date {
    guard let text else { return Date() }
    guard let parsed = OsloTime.parse(text) else {
        throw fail("--now: '\(text)' is not a time like 2027-05-01T09:00 or 2027-05-01T09:00:00+02:00")
    }
    return parsed
}
