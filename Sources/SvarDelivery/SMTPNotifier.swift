import CCurl
import Dispatch
import Foundation

/// Submits mail through libcurl: one connection per batch (libcurl keeps it open between messages of one
/// handle), STARTTLS or implicit TLS, AUTH, and timeouts. libcurl blocks, so a batch runs on a dispatch
/// thread and the caller awaits it.
public struct SMTPNotifier: Notifier {
    public let channel = Channel.email
    public let settings: SMTPSettings
    /// The system CA bundle plus `SVAR_SMTP_CA_FILE`, so the extra CA is trusted in addition, not instead. Kept
    /// in memory and handed to libcurl as a blob: a combined file would be left in the temporary directory.
    let caBundle: [UInt8]?
    let clock: @Sendable () -> Date

    public init(settings: SMTPSettings, clock: @escaping @Sendable () -> Date = Date.init) throws(DeliveryConfigurationError) {
        _ = Self.globalInit
        self.settings = settings
        self.clock = clock
        caBundle = try settings.caFile.map { caFile throws(DeliveryConfigurationError) in try Self.combinedBundle(extra: caFile) }
    }

    public func deliver(_ messages: [OutgoingMessage]) async -> [DeliveryOutcome] {
        guard !messages.isEmpty else { return [] }
        return await deliverCountingConnections(messages).outcomes
    }

    /// How many connections the last batch opened: the benchmark and tests read it to show reuse.
    public func deliverCountingConnections(_ messages: [OutgoingMessage]) async -> (outcomes: [DeliveryOutcome], connections: Int) {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .utility).async {
                var connections = 0
                let outcomes = self.deliverBlocking(messages, connections: &connections)
                continuation.resume(returning: (outcomes, connections))
            }
        }
    }

    /// Sends on one libcurl handle (one connection, kept open between messages). `after` sees each outcome before
    /// the next message is sent and may stop the batch (false): the rest is then not sent and has no outcome.
    private func deliverBlocking(
        _ messages: [OutgoingMessage], connections: inout Int, after: ((Int, DeliveryOutcome) -> Bool)? = nil
    ) -> [DeliveryOutcome] {
        guard let curl = curl_easy_init() else {
            return report(messages.map { _ in .transient(reason: "libcurl could not start") }, to: after)
        }
        defer { curl_easy_cleanup(curl) }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        var outcomes: [DeliveryOutcome] = []
        errorBuffer.withUnsafeMutableBufferPointer { buffer in
            guard let errorText = buffer.baseAddress, configure(curl, errorBuffer: errorText) else {
                outcomes = report(messages.map { _ in .transient(reason: "libcurl refused the SMTP settings") }, to: after)
                return
            }
            for (index, message) in messages.enumerated() {
                errorText[0] = 0
                let outcome = send(message, curl: curl, errorText: errorText)
                var opened = 0
                if svar_curl_connection_count(curl, &opened) == CURLE_OK { connections += opened }
                outcomes.append(outcome)
                if let after, !after(index, outcome) { break }
            }
        }
        return outcomes
    }

    private func report(_ outcomes: [DeliveryOutcome], to after: ((Int, DeliveryOutcome) -> Bool)?) -> [DeliveryOutcome] {
        guard let after else { return outcomes }
        for (index, outcome) in outcomes.enumerated() where !after(index, outcome) { break }
        return outcomes
    }

    /// One connection for the batch, as `deliver(_:)`, but each outcome is recorded before the next message is
    /// sent: the sending thread waits for `record` (a crash then leaves one message in doubt, not a batch).
    public func deliver(_ messages: [OutgoingMessage], recordingEach record: (Int, DeliveryOutcome) async throws -> Void) async throws {
        guard !messages.isEmpty else { return }
        let (outcomes, continuation) = AsyncStream.makeStream(of: (Int, DeliveryOutcome).self)
        let turn = RecordingTurn()
        DispatchQueue.global(qos: .utility).async {
            var connections = 0
            _ = self.deliverBlocking(messages, connections: &connections) { index, outcome in
                continuation.yield((index, outcome))
                return turn.awaitRecorded()
            }
            continuation.finish()
        }
        // However the loop ends (done, an error, cancellation), the sending thread must not wait for ever.
        defer { turn.stop() }
        for await (index, outcome) in outcomes {
            try await record(index, outcome)
            turn.recorded()
        }
    }

    private func configure(_ curl: UnsafeMutableRawPointer, errorBuffer: UnsafeMutablePointer<CChar>) -> Bool {
        let requireTLS = settings.requiresTLS
        var ok = svar_curl_set_string(curl, CURLOPT_URL, settings.curlURL) == CURLE_OK
        ok = ok && svar_curl_set_string(curl, CURLOPT_MAIL_FROM, "<\(settings.from)>") == CURLE_OK
        ok =
            ok && svar_curl_set_long(curl, CURLOPT_USE_SSL, Int(requireTLS ? CURLUSESSL_ALL.rawValue : CURLUSESSL_TRY.rawValue)) == CURLE_OK
        ok = ok && svar_curl_set_long(curl, CURLOPT_UPLOAD, 1) == CURLE_OK
        ok = ok && svar_curl_set_long(curl, CURLOPT_NOSIGNAL, 1) == CURLE_OK
        ok = ok && svar_curl_set_long(curl, CURLOPT_CONNECTTIMEOUT, settings.connectTimeout) == CURLE_OK
        ok = ok && svar_curl_set_long(curl, CURLOPT_TIMEOUT, settings.messageTimeout) == CURLE_OK
        ok = ok && svar_curl_set_pointer(curl, CURLOPT_ERRORBUFFER, errorBuffer) == CURLE_OK
        ok = ok && svar_curl_set_read_callback(curl, Self.readCallback) == CURLE_OK
        if let username = settings.username, let password = settings.password {
            ok = ok && svar_curl_set_string(curl, CURLOPT_USERNAME, username) == CURLE_OK
            ok = ok && svar_curl_set_string(curl, CURLOPT_PASSWORD, password) == CURLE_OK
        }
        if let caBundle {
            ok = ok && caBundle.withUnsafeBytes { svar_curl_set_blob(curl, CURLOPT_CAINFO_BLOB, $0.baseAddress, $0.count) } == CURLE_OK
        }
        return ok
    }

    private func send(_ message: OutgoingMessage, curl: UnsafeMutableRawPointer, errorText: UnsafeMutablePointer<CChar>) -> DeliveryOutcome
    {
        guard SMTPSettings.isPlainAddress(message.recipient) else {
            return .permanent(reason: "the e-mail address is not valid")
        }
        guard let recipients = curl_slist_append(nil, "<\(message.recipient)>") else {
            return .transient(reason: "libcurl could not allocate")
        }
        defer { curl_slist_free_all(recipients) }
        let source = UploadSource(Array(MailFormat.render(message, from: settings.from, date: clock()).utf8))
        let context = Unmanaged.passRetained(source)
        defer { context.release() }
        guard svar_curl_set_slist(curl, CURLOPT_MAIL_RCPT, recipients) == CURLE_OK,
            svar_curl_set_pointer(curl, CURLOPT_READDATA, context.toOpaque()) == CURLE_OK
        else {
            return .transient(reason: "libcurl refused the message options")
        }
        let result = curl_easy_perform(curl)
        if result == CURLE_OK { return .sent }
        var reply = 0
        _ = svar_curl_response_code(curl, &reply)
        let detail = errorText[0] != 0 ? String(cString: errorText) : String(cString: curl_easy_strerror(result))
        let reason = "SMTP \(reply > 0 ? "\(reply) " : "")\(detail)".replacingOccurrences(of: message.recipient, with: "<recipient>")
        return Self.classify(reply: reply, reason: reason)
    }

    /// 5xx replies are final for this recipient, except the authentication ones: a wrong password is the
    /// operator's to fix, not a reason to give up on a patient.
    static func classify(reply: Int, reason: String) -> DeliveryOutcome {
        if (500...599).contains(reply), ![530, 534, 535, 538].contains(reply) {
            return .permanent(reason: reason)
        }
        return .transient(reason: reason)
    }

    /// Feeds the message to libcurl; the context is the `UploadSource` of the message being sent.
    private static let readCallback: svar_curl_read_callback = { buffer, size, count, context in
        guard let buffer, let context else { return 0 }
        let source = Unmanaged<UploadSource>.fromOpaque(context).takeUnretainedValue()
        let length = min(size * count, source.bytes.count - source.offset)
        guard length > 0 else { return 0 }
        source.bytes.withUnsafeBytes { bytes in
            if let base = bytes.baseAddress {
                UnsafeMutableRawPointer(buffer).copyMemory(from: base + source.offset, byteCount: length)
            }
        }
        source.offset += length
        return length
    }

    private static let globalInit: Int = Int(curl_global_init(Int(CURL_GLOBAL_ALL)).rawValue)

    static func combinedBundle(extra caFile: String) throws(DeliveryConfigurationError) -> [UInt8] {
        guard let extra = FileManager.default.contents(atPath: caFile) else {
            throw DeliveryConfigurationError(variable: "SVAR_SMTP_CA_FILE", reason: "cannot read \(caFile)")
        }
        var bundle = Data()
        for system in ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"] {
            if let data = FileManager.default.contents(atPath: system) {
                bundle.append(data)
                bundle.append(0x0A)
                break
            }
        }
        bundle.append(extra)
        return [UInt8](bundle)
    }
}

/// The bytes of one message and how far libcurl has read them.
private final class UploadSource {
    let bytes: [UInt8]
    var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
}

/// The hand-over between the thread that sends and the task that records: the sender waits after each message
/// until the outcome is recorded, or until the recording side stops.
final class RecordingTurn: @unchecked Sendable {
    private let signal = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var stopped = false

    /// Sender: waits for the record; false when the batch must stop.
    func awaitRecorded() -> Bool {
        signal.wait()
        return lock.withLock { !stopped }
    }

    func recorded() { signal.signal() }

    func stop() {
        lock.withLock { stopped = true }
        signal.signal()
    }
}
