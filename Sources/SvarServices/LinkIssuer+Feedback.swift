import Crypto
import Foundation
import SvarDomain

extension LinkIssuer {
    /// A short-lived proof, for the browser that just submitted, that the thank-you page may show this
    /// invitation's results once. It is signed for its own purpose (`feedback:`), so it can never pass as the
    /// second factor's proof, and it holds no score: the page reads those from the store.
    public func feedbackProof(invitationId: String, until: Date) -> String {
        let expiry = Int64(until.timeIntervalSince1970)
        let mac = keys[newestKeyId].map { Array(HMAC<SHA256>.authenticationCode(for: Self.feedbackBody(invitationId, expiry), using: $0)) }
        let body =
            withUnsafeBytes(of: newestKeyId.bigEndian) { Array($0) } + withUnsafeBytes(of: expiry.bigEndian) { Array($0) } + (mac ?? [])
        return Base64URL.encode(body)
    }

    public func verifyFeedbackProof(_ proof: String, invitationId: String, now: Date) -> Bool {
        guard let bytes = Base64URL.decode(proof), bytes.count == 4 + 8 + 32 else { return false }
        let keyId = bytes[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let expiry = Int64(bitPattern: bytes[4..<12].reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        guard let key = keys[keyId], expiry > Int64(now.timeIntervalSince1970) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(
            Array(bytes[12...]), authenticating: Self.feedbackBody(invitationId, expiry), using: key)
    }

    static func feedbackBody(_ invitationId: String, _ expiry: Int64) -> [UInt8] { Array("feedback:\(invitationId):\(expiry)".utf8) }
}
