import Foundation

/// Output bytes collected in one large block and handed to `sink` when it fills: bulk rescoring writes
/// hundreds of megabytes, and one system call per line (or a `String` per line) would dominate the run.
final class ByteOutput {
    static let capacity = 1 << 20
    let base: UnsafeMutablePointer<UInt8>
    var count = 0
    private let sink: (UnsafeRawBufferPointer) -> Void

    init(sink: @escaping (UnsafeRawBufferPointer) -> Void) {
        self.sink = sink
        base = .allocate(capacity: ByteOutput.capacity)
    }

    deinit { base.deallocate() }

    /// Makes room for `bytes` more bytes (at most `capacity`) and returns where to write them.
    @inline(__always) func reserve(_ bytes: Int) -> UnsafeMutablePointer<UInt8> {
        if count + bytes > ByteOutput.capacity { flush() }
        return base + count
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        if count + bytes.count > ByteOutput.capacity { flush() }
        guard bytes.count <= ByteOutput.capacity, let source = bytes.baseAddress else {
            sink(bytes)
            return
        }
        (base + count).update(from: source.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        count += bytes.count
    }

    func flush() {
        if count > 0 { sink(UnsafeRawBufferPointer(start: base, count: count)) }
        count = 0
    }
}

/// Byte strings stored once and copied many times: the text of each scale mean, EQ-5D state or VAS value,
/// made by the reference code the first time it is needed. Entry `i` is absent until `store` fills it.
final class FragmentTable {
    private var bytes: UnsafeMutablePointer<UInt8>
    private var byteCount = 0
    private var byteCapacity = 4096
    private let starts: UnsafeMutablePointer<Int32>
    private let lengths: UnsafeMutablePointer<Int32>
    let entries: Int
    /// The longest fragment this table accepts, so a line's output size is known before it is written.
    let maximumLength: Int

    init(entries: Int, maximumLength: Int) {
        self.entries = entries
        self.maximumLength = maximumLength
        bytes = .allocate(capacity: byteCapacity)
        starts = .allocate(capacity: max(entries, 1))
        starts.initialize(repeating: -1, count: max(entries, 1))
        lengths = .allocate(capacity: max(entries, 1))
        lengths.initialize(repeating: 0, count: max(entries, 1))
    }

    deinit {
        bytes.deallocate()
        starts.deallocate()
        lengths.deallocate()
    }

    @inline(__always) func has(_ entry: Int) -> Bool { starts[entry] >= 0 }

    /// Copies entry `entry` (which must be present) to `target` and returns the end of what was written.
    @inline(__always) func write(_ entry: Int, to target: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        let length = Int(lengths[entry])
        target.update(from: bytes + Int(starts[entry]), count: length)
        return target + length
    }

    /// Stores `text` as entry `entry`; false (nothing stored) when it is longer than `maximumLength`.
    @discardableResult func store(_ entry: Int, _ text: some Collection<UInt8>) -> Bool {
        guard text.count <= maximumLength, byteCount + text.count < Int(Int32.max) else { return false }
        if byteCount + text.count > byteCapacity {
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: max(byteCapacity * 2, byteCount + text.count))
            grown.update(from: bytes, count: byteCount)
            bytes.deallocate()
            bytes = grown
            byteCapacity = max(byteCapacity * 2, byteCount + text.count)
        }
        var at = bytes + byteCount
        for byte in text {
            at.pointee = byte
            at += 1
        }
        starts[entry] = Int32(byteCount)
        lengths[entry] = Int32(text.count)
        byteCount += text.count
        return true
    }
}

extension UnsafeMutablePointer<UInt8> {
    /// Copies `source` here and returns the end of what was written.
    @inline(__always) func put(_ source: [UInt8]) -> UnsafeMutablePointer<UInt8> {
        source.withUnsafeBufferPointer { buffer in
            if let start = buffer.baseAddress { update(from: start, count: buffer.count) }
        }
        return self + source.count
    }
}
