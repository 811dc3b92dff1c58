/// Compares secrets (tokens, codes, digests) without an early exit, so the time taken says nothing about
/// where they differ. The one comparison every secret in Svar goes through.
@inlinable public func constantTimeEqual(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
}
