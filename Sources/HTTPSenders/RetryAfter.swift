import Senders
import Foundation

/// The `Retry-After` header (RFC 9110 §10.2.3): either delay-seconds or an HTTP date.
enum RetryAfter {
    /// Seconds to wait from `now`, or nil when the header is absent or unreadable.
    /// A date in the past gives 0: "retry now" is still a hint.
    static func seconds(from header: String?, now: Date = Date()) -> Double? {
        guard let value = header?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value), seconds.isFinite {
            return max(0, seconds)
        }
        guard let date = httpDate(value) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }

    /// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), plus the obsolete RFC 850 and asctime forms
    /// that RFC 9110 asks recipients to accept.
    static func httpDate(_ text: String) -> Date? {
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            // DateFormatter is not Sendable; a Retry-After date is rare enough to build one per use.
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}
