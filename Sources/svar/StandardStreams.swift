#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

func printError(_ message: String) {
    let line = Array((message + "\n").utf8)
    line.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
}

/// Reads standard input in large blocks and yields it line by line, without loading it all.
struct StandardInputLines: Sequence, IteratorProtocol {
    private var buffer: [UInt8] = []
    private var start = 0
    private var finished = false
    private var block = [UInt8](repeating: 0, count: 1 << 16)

    mutating func next() -> ArraySlice<UInt8>? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                var line = buffer[start..<newline]
                start = newline + 1
                if line.last == 0x0D { line = line.dropLast() }
                return line
            }
            if finished {
                guard start < buffer.count else { return nil }
                let line = buffer[start...]
                start = buffer.count
                return line
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            let count = block.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if count <= 0 {
                finished = true
            } else {
                buffer.append(contentsOf: block[0..<count])
            }
        }
    }
}

/// Buffered standard output for high-volume line output.
struct StandardOutputBuffer {
    private var pending: [UInt8] = []

    mutating func writeLine(_ text: String) {
        pending.append(contentsOf: text.utf8)
        pending.append(0x0A)
        if pending.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        pending.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(1, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
        pending.removeAll(keepingCapacity: true)
    }
}

func readAllStandardInput() -> [UInt8] {
    var all: [UInt8] = []
    var block = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = block.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        if count <= 0 { return all }
        all.append(contentsOf: block[0..<count])
    }
}

/// Writes a line to standard output at once (not through stdio's buffer), so a log file sees it before a
/// long-running server starts.
func say(_ message: String) {
    let line = Array((message + "\n").utf8)
    line.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let written = write(1, raw.baseAddress.map { $0 + offset }, raw.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}
