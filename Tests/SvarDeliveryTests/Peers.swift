import Foundation

/// A real peer process from `e2e/peers/` (aiosmtpd SMTP server, HTTP gateway) on a free loopback port,
/// started with the project's `.venv` Python (made by `scripts/setup-test-env`).
final class Peer: @unchecked Sendable {
    let process: Process
    let port: Int
    let record: URL
    let folder: URL
    /// The CA certificate a client must trust explicitly (when started with TLS).
    var certificate: String { folder.appendingPathComponent("tls/cert.pem").path }

    /// A TCP socket bound to a free port on 127.0.0.1 (the caller closes it).
    static func boundLoopbackSocket() -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    static func freePort() -> Int {
        let (fd, port) = boundLoopbackSocket()
        close(fd)
        return port
    }

    /// `recordFlag`/`record`: how the peer is told where to write (`--record FILE` by default; the registry
    /// receiver takes `--store FILE`, which a restarted peer can share).
    init(
        _ script: String, _ arguments: [String] = [], tls: Bool = false, port: Int = Peer.freePort(), recordFlag: String = "--record",
        record: URL? = nil
    ) throws {
        let python = packageRoot.appendingPathComponent(".venv/bin/python3")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw PeerError("no \(python.path): run scripts/setup-test-env first")
        }
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("svar-peer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        self.record = record ?? folder.appendingPathComponent("record.ndjson")
        self.port = port
        let output = folder.appendingPathComponent("out.txt")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        process = Process()
        process.executableURL = python
        process.arguments =
            [packageRoot.appendingPathComponent("e2e/peers/\(script)").path, "--port", String(port), recordFlag, self.record.path]
            + (tls ? ["--tls-dir", folder.appendingPathComponent("tls").path] : []) + arguments
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = process.standardOutput
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let text = try? String(contentsOf: output, encoding: .utf8), text.contains("READY \(port)") { return }
            if !process.isRunning { break }
            usleep(50_000)
        }
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        stop()
        throw PeerError("\(script) did not start: \(text)")
    }

    /// The JSON lines the peer recorded so far.
    func records() -> [[String: Any]] {
        guard let text = try? String(contentsOf: record, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: folder)
    }
}

struct PeerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
