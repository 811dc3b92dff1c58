import Foundation
import SvarDomain
import SvarServices
import Testing

@testable import SvarWeb

/// The failure counters behind the link checks and the login form: bounded memory, right client behind a proxy.
@Suite struct RecentFailuresTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aMillionDistinctAddressesStayWithinTheBoundAndAFastFailerIsStillCaught() async {
        let failures = RecentFailures(limit: 30, window: 600, capacity: 50_000)
        var caught = false
        for i in 0..<1_000_000 {
            let address = "10.\(i >> 16 & 255).\(i >> 8 & 255).\(i & 255)"
            await failures.record(address, now: t0.addingTimeInterval(Double(i) / 10_000))
            // One attacker failing every 1,000 requests among them: 30 failures within 30,000 others.
            if i % 1_000 == 0, await failures.record("203.0.113.7", now: t0.addingTimeInterval(Double(i) / 10_000)) { caught = true }
        }
        #expect(await failures.heldClients <= 100_000, "two generations of at most 50,000 clients")
        #expect(caught, "a client failing often is blocked even while a million others churn the table")
    }

    @Test func onlyRecentFailuresCount() async {
        let failures = RecentFailures(limit: 3, window: 60)
        for _ in 0..<3 { await failures.record("a", now: t0) }
        #expect(await failures.isBlocked("a", now: t0.addingTimeInterval(59)))
        #expect(await !failures.isBlocked("b", now: t0.addingTimeInterval(59)), "another client is not affected")
        #expect(await !failures.isBlocked("a", now: t0.addingTimeInterval(121)), "forgotten after two windows")
    }

    @Test func forwardedForIsBelievedOnlyFromATrustedProxy() throws {
        let proxies = try #require(AddressRange.list("127.0.0.1/32, 10.0.0.0/8"))
        // The client may write anything on the left; the proxy appends the address it saw.
        #expect(clientKey(peer: "127.0.0.1", forwardedFor: "198.51.100.1, 203.0.113.7", trustedProxies: proxies) == "203.0.113.7")
        #expect(
            clientKey(peer: "127.0.0.1", forwardedFor: "203.0.113.7, 10.1.2.3", trustedProxies: proxies) == "203.0.113.7",
            "a chain of trusted proxies is skipped")
        #expect(
            clientKey(peer: "192.0.2.5", forwardedFor: "203.0.113.7", trustedProxies: proxies) == "192.0.2.5",
            "an untrusted peer's header is ignored")
        #expect(clientKey(peer: "127.0.0.1", forwardedFor: "203.0.113.7", trustedProxies: []) == "127.0.0.1")
        #expect(clientKey(peer: "127.0.0.1", forwardedFor: nil, trustedProxies: proxies) == "127.0.0.1")
    }

    @Test func ipv6ClientsAreCountedPerSlash64() throws {
        let a = try #require(IPAddress("2001:db8:1:2:aaaa::1"))
        let b = try #require(IPAddress("2001:db8:1:2:ffff:ffff:ffff:ffff"))
        let c = try #require(IPAddress("2001:db8:1:3::1"))
        #expect(a.clientKey == b.clientKey && a.clientKey == "2001:db8:1:2::/64")
        #expect(a.clientKey != c.clientKey)
        #expect(IPAddress("::ffff:192.0.2.1")?.clientKey == "192.0.2.1", "an IPv4-mapped address is the IPv4 client")
        #expect(
            IPAddress("::1")?.isLoopback == true && IPAddress("127.9.9.9")?.isLoopback == true
                && IPAddress("128.0.0.1")?.isLoopback == false)
    }

    @Test func addressRangesAreParsedStrictly() throws {
        func address(_ text: String) throws -> IPAddress { try #require(IPAddress(text)) }
        let range = try #require(AddressRange("10.0.0.0/8"))
        #expect(range.contains(try address("10.255.0.1")))
        #expect(!range.contains(try address("11.0.0.1")))
        let v6 = try #require(AddressRange("2001:db8::/32"))
        #expect(v6.contains(try address("2001:db8:ffff::1")))
        #expect(!v6.contains(try address("2001:db9::1")))
        #expect(!v6.contains(try address("10.0.0.1")), "families never match")
        for bad in ["10.0.0.0/33", "10.0.0/8", "example.org", "10.0.0.0/", "::/129"] { #expect(AddressRange(bad) == nil, "\(bad)") }
        #expect(AddressRange.list("10.0.0.0/8,nonsense") == nil)
    }
}
