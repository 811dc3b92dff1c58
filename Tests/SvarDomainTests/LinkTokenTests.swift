import Crypto
import Foundation
import SvarDomain
import Testing

@Suite struct LinkTokenTests {
    let key = SymmetricKey(size: .bits256)
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func token(expiresIn seconds: TimeInterval = 86_400, keyId: UInt32 = 7) -> LinkToken {
        LinkToken.issue(keyId: keyId, invitationId: UUID(), expiresAt: now.addingTimeInterval(seconds))
    }

    @Test func aValidTokenVerifiesAndCarriesNoPersonalData() throws {
        let t = token()
        let text = t.encoded(with: key)
        #expect(text.count == 103)
        let verified = try LinkToken.verify(text, now: now) { $0 == 7 ? key : nil }
        #expect(verified == t)
        #expect(verified.nonceHash.count == 32)
        #expect(text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
    }

    @Test func everySingleByteChangeIsRefused() throws {
        let text = Array(token().encoded(with: key).utf8)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        for position in text.indices {
            for replacement in alphabet where replacement != text[position] {
                var changed = text
                changed[position] = replacement
                let result = Result { try LinkToken.verify(String(decoding: changed, as: UTF8.self), now: now) { _ in key } }
                if case .success = result { Issue.record("accepted a change at \(position) to \(replacement)") }
            }
        }
    }

    @Test func expiredUnknownKeyAndOtherKeyAreRefused() throws {
        let expired = token(expiresIn: -1).encoded(with: key)
        #expect(throws: LinkTokenError.expired) { try LinkToken.verify(expired, now: now) { _ in key } }
        let t = token().encoded(with: key)
        #expect(throws: LinkTokenError.unknownKey) { try LinkToken.verify(t, now: now) { _ in nil } }
        #expect(throws: LinkTokenError.badSignature) { try LinkToken.verify(t, now: now) { _ in SymmetricKey(size: .bits256) } }
    }

    @Test func tenThousandRandomAndMutatedStringsAreRefusedWithoutCrashing() {
        var rng = SystemRandomNumberGenerator()
        let valid = token().encoded(with: key)
        for i in 0..<10_000 {
            let candidate: String
            switch i % 4 {
            case 0:
                candidate = String(
                    (0..<Int.random(in: 0...200, using: &rng)).map { _ in Character(UnicodeScalar(UInt8.random(in: 32...126, using: &rng)))
                    })
            case 1: candidate = String(valid.prefix(Int.random(in: 0..<valid.count, using: &rng)))
            case 2: candidate = valid + String(repeating: "A", count: Int.random(in: 1...8, using: &rng))
            default: candidate = String(valid.shuffled(using: &rng))
            }
            #expect(throws: LinkTokenError.self) { try LinkToken.verify(candidate, now: now) { _ in key } }
        }
    }
}

/// The byte-level base64url coder against Foundation's base64 with the URL alphabet swapped in by hand.
@Suite struct Base64URLTests {
    static func foundation(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    @Test func encodesAsFoundationDoesAndDecodesBack() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...70 {
            for _ in 0..<20 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let text = Base64URL.encode(bytes)
                #expect(text == Self.foundation(bytes), "\(bytes)")
                #expect(Base64URL.decode(text) == bytes, "\(text)")
            }
        }
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8" && Base64URL.decode("-_8") == [0xFB, 0xFF])
    }

    @Test func refusesWhatIsNotTheOneCanonicalSpelling() {
        #expect(Base64URL.decode("AAA=") == nil)  // padding
        #expect(Base64URL.decode("AB") == nil)  // stray low bits: "AA" is the spelling of [0]
        #expect(Base64URL.decode("AA") == [0])
        #expect(Base64URL.decode("AAAAA") == nil)  // a length no bytes have
        #expect(Base64URL.decode("AA+A") == nil && Base64URL.decode("AA/A") == nil && Base64URL.decode("AA A") == nil)
        #expect(Base64URL.decode("ÅÅÅÅ") == nil)
        #expect(Base64URL.decode("") == [])
    }
}
