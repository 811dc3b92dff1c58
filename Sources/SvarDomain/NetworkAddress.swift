import Foundation

/// An IPv4 or IPv6 address as bytes (IPv4-mapped IPv6 addresses count as IPv4), parsed without any lookup.
public struct IPAddress: Sendable, Equatable, Hashable {
    public let bytes: [UInt8]

    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= 64 else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, trimmed, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, trimmed, &v6) == 1 else { return nil }
        let all = withUnsafeBytes(of: &v6) { Array($0) }
        bytes = all.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] ? Array(all.suffix(4)) : all
    }

    public var isIPv4: Bool { bytes.count == 4 }

    /// 127.0.0.0/8 or ::1.
    public var isLoopback: Bool { isIPv4 ? bytes[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1] }

    /// The key a client is counted under: the address itself for IPv4, its /64 for IPv6 (one subscriber
    /// usually has a whole /64, so counting single addresses would let one client look like millions).
    public var clientKey: String {
        if isIPv4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: 8, by: 2).map { String(format: "%x", Int(bytes[$0]) << 8 | Int(bytes[$0 + 1])) }.joined(separator: ":")
            + "::/64"
    }
}

/// An address range in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`, or one address).
public struct AddressRange: Sendable, Equatable {
    public let network: IPAddress
    public let prefixLength: Int

    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let address = IPAddress(String(parts[0])) else { return nil }
        let bits = address.bytes.count * 8
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...bits).contains(length) else { return nil }
            prefixLength = length
        } else {
            prefixLength = bits
        }
        network = address
    }

    public func contains(_ address: IPAddress) -> Bool {
        guard address.bytes.count == network.bytes.count else { return false }
        var remaining = prefixLength
        for (a, b) in zip(address.bytes, network.bytes) where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xff : ~(0xff >> UInt8(remaining))
            guard a & mask == b & mask else { return false }
            remaining -= 8
        }
        return true
    }

    /// `SVAR_TRUSTED_PROXIES`: comma-separated ranges.
    public static func list(_ text: String) -> [AddressRange]? {
        let items = text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let ranges = items.compactMap(AddressRange.init)
        return ranges.count == items.count ? ranges : nil
    }
}

/// Who the client is, for counting failures: the TCP peer, or — only when the peer is one of the installation's
/// trusted proxies — the right-most address in `X-Forwarded-For` that is not itself a trusted proxy (the
/// left part of that header is whatever the client chose to send).
public func clientKey(peer: String?, forwardedFor: String?, trustedProxies: [AddressRange]) -> String {
    guard let peerText = peer, let peerAddress = IPAddress(peerText) else { return peer ?? "unknown" }
    func trusted(_ address: IPAddress) -> Bool { trustedProxies.contains { $0.contains(address) } }
    guard trusted(peerAddress), let header = forwardedFor else { return peerAddress.clientKey }
    for entry in header.split(separator: ",").reversed() {
        guard let address = IPAddress(String(entry)) else { return "unparsable:" + String(entry.prefix(64)) }
        if !trusted(address) { return address.clientKey }
    }
    return peerAddress.clientKey
}

/// 127.0.0.0/8, ::1 (with or without brackets) or `localhost`.
public func isLoopbackHost(_ host: String) -> Bool {
    let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    return bare.lowercased() == "localhost" || (IPAddress(bare)?.isLoopback ?? false)
}
