import Foundation

/// The embedded default for e-mail: each message becomes an RFC 5322 `.eml` file in a folder, so a demo or
/// a test installation needs no mail server and a newcomer can open the invitation in any mail program.
public struct FileMailbox: Notifier {
    public let channel = Channel.email
    public let directory: URL
    public let from: String
    let clock: @Sendable () -> Date

    public init(directory: URL, from: String, clock: @escaping @Sendable () -> Date = Date.init) {
        self.directory = directory
        self.from = from
        self.clock = clock
    }

    public func deliver(_ messages: [OutgoingMessage]) async -> [DeliveryOutcome] {
        do {
            // Messages carry addresses and links: readable by the service's user only.
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        } catch {
            return messages.map { _ in .transient(reason: "mailbox folder \(directory.path): \(error.localizedDescription)") }
        }
        return messages.map(write)
    }

    /// Written under a temporary name and renamed, so a reader never sees half a message.
    private func write(_ message: OutgoingMessage) -> DeliveryOutcome {
        let now = clock()
        let stamp = String(format: "%.0f", (now.timeIntervalSince1970 * 1000).rounded(.down))
        let safeId = String(
            message.messageId.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) || $0 == "." || $0 == "-" }
                .map(Character.init))
        let final = directory.appendingPathComponent("\(stamp)-\(safeId).eml")
        let partial = directory.appendingPathComponent(".\(safeId).partial")
        do {
            guard
                FileManager.default.createFile(
                    atPath: partial.path, contents: Data(MailFormat.render(message, from: from, date: now).utf8),
                    attributes: [.posixPermissions: 0o600])
            else {
                return .transient(reason: "mailbox folder \(directory.path): cannot write")
            }
            try? FileManager.default.removeItem(at: final)
            try FileManager.default.moveItem(at: partial, to: final)
            return .sent
        } catch {
            try? FileManager.default.removeItem(at: partial)
            return .transient(reason: "mailbox folder \(directory.path): \(error.localizedDescription)")
        }
    }
}
