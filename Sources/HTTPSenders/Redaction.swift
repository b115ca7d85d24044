import Senders
import Foundation

/// Masks secrets and phone numbers before they reach logs, status events or error messages.
///
/// Senders never put a token, an api key or a full phone number into a `SendFailure` message:
/// those messages travel to Kafka (`broadcast.status`) and to operators' screens.
public enum Redaction {
    /// "+60123456778" → "+6012•••••78": keeps the country code and a little of the start so an
    /// operator can still tell numbers apart, hides the part that identifies the person.
    public static func phone(_ phone: String) -> String {
        let hasPlus = phone.hasPrefix("+")
        let digits = Array(phone.filter(\.isASCIIDigit))
        guard digits.count > 6 else { return (hasPlus ? "+" : "") + String(repeating: "•", count: digits.count) }
        let head = String(digits.prefix(4))
        let tail = String(digits.suffix(2))
        return (hasPlus ? "+" : "") + head + String(repeating: "•", count: digits.count - 6) + tail
    }

    /// A secret shown only by its length and last two characters, enough to tell two keys apart.
    public static func secret(_ secret: String) -> String {
        guard secret.count >= 12 else { return "•••• (\(secret.count) chars)" }
        return "••••\(secret.suffix(2)) (\(secret.count) chars)"
    }

    /// Removes every occurrence of the given secrets and phone numbers from a text we did not write
    /// (a provider's error message may echo the request).
    public static func scrub(_ text: String, secrets: [String], phones: [String] = []) -> String {
        var result = text
        for secret in secrets where secret.count >= 4 {
            result = result.replacingOccurrences(of: secret, with: "••••")
        }
        for phone in phones {
            let digits = String(phone.filter(\.isASCIIDigit))
            guard digits.count >= 6 else { continue }
            result = result.replacingOccurrences(of: digits, with: Redaction.phone(digits))
        }
        return result
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
