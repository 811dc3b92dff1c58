import Crypto
import Foundation

/// One stored value as it travels from one engine to the other when an installation moves (`svar store copy`):
/// the few kinds both engines hold, nothing engine-specific.
public enum CopyValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case bytes([UInt8])
}

/// Where a copy reads from: a database's tables, read in the order their rows were written.
public protocol TableSource {
    /// Each table with its columns (the migration bookkeeping of the engine left out).
    func tables() throws -> [String: [String]]
    /// Up to `size` rows of `table` after `cursor` (nil: from the start), in writing order, and the cursor to go on
    /// from (nil when the table is done). A cursor is the key of the last row read, as the source defines it.
    func batch(_ table: String, columns: [String], after cursor: [CopyValue]?, size: Int) throws -> (
        rows: [[CopyValue]], next: [CopyValue]?
    )
}

/// A checksum of a table's content that does not depend on row order, so both engines can compute it from their
/// own reading and the results compare: every row is hashed (SHA-256 over its values in column-name order) and
/// the hashes are added in four 64-bit lanes. A row missing, doubled or changed on one side changes the sum.
public struct TableChecksum: Sendable, Equatable, CustomStringConvertible {
    public private(set) var rows = 0
    private var lanes: [UInt64] = [0, 0, 0, 0]

    public init() {}

    /// `row` in column-name order.
    public mutating func add(_ row: [CopyValue]) {
        var hasher = SHA256()
        for value in row {
            switch value {
            case .null: hasher.update(data: [0x4e])
            case .integer(let n): hasher.update(data: Array("I\(n);".utf8))
            case .real(let x): hasher.update(data: Array("R\(x.bitPattern);".utf8))
            case .text(let s):
                let bytes = Array(s.utf8)
                hasher.update(data: Array("T\(bytes.count):".utf8))
                hasher.update(data: bytes)
            case .bytes(let bytes):
                hasher.update(data: Array("B\(bytes.count):".utf8))
                hasher.update(data: bytes)
            }
        }
        let digest = Array(hasher.finalize())
        for lane in 0..<4 {
            var word: UInt64 = 0
            for byte in digest[(lane * 8)..<(lane * 8 + 8)] { word = word << 8 | UInt64(byte) }
            lanes[lane] &+= word
        }
        rows += 1
    }

    public var description: String {
        lanes.map { String($0, radix: 16).leftPadded(to: 16) }.joined()
    }
}

/// What a copy did to one table, printed per table by `svar store copy`.
public struct TableCopyReport: Sendable, Equatable {
    public var table: String
    public var source: TableChecksum
    public var target: TableChecksum
    public init(table: String, source: TableChecksum, target: TableChecksum) {
        self.table = table
        self.source = source
        self.target = target
    }
    public var matches: Bool { source == target }
}

/// A copy that cannot go on, in words (the target is left as it was).
public struct CopyProblem: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
