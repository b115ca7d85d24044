import Crypto
import Foundation

/// Meta signs every webhook POST: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body,
/// keyed with the app secret>`. The check runs on the raw bytes, before any parsing.
public struct WebhookSignature: Sendable {
    private let key: SymmetricKey

    /// `appSecret` comes from the environment or a file; it is never logged or printed.
    public init(appSecret: String) {
        key = SymmetricKey(data: Array(appSecret.utf8))
    }

    public static let headerName = "X-Hub-Signature-256"

    /// True when `header` is `sha256=` followed by the right 64 hex digits. The comparison of the
    /// codes is constant-time (CryptoKit's `isValidAuthenticationCode`).
    public func isValid(header: String?, body: some DataProtocol) -> Bool {
        guard let header, let code = Self.parse(header) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: body, using: key)
    }

    /// The header value for `body` (what Meta would send; tests, `broadcast dev` and the benchmark sign with it).
    public func header(for body: some DataProtocol) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: key)
        return "sha256=" + code.map { String(format: "%02x", $0) }.joined()
    }

    /// The 32 bytes of a `sha256=<hex>` header; nil for anything else.
    static func parse(_ header: String) -> [UInt8]? {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("sha256=") else { return nil }
        let hex = Array(trimmed.utf8.dropFirst(7))
        guard hex.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var index = 0
        while index < 64 {
            guard let high = nibble(hex[index]), let low = nibble(hex[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: nil
        }
    }
}
