#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads standard input into `buffer` for `BatchScoring`: the byte count, 0 at the end (or on an error, as
/// `StandardInputLines` does).
func readStandardInput(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
    max(read(0, buffer.baseAddress, buffer.count), 0)
}

/// Writes all of `bytes` to standard output (stops if the reader has gone away).
func writeStandardOutput(_ bytes: UnsafeRawBufferPointer) {
    var offset = 0
    while offset < bytes.count {
        let written = write(1, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
        if written <= 0 { return }
        offset += written
    }
}
