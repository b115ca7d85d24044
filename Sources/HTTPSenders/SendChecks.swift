import Senders
import BroadcastModel
import Foundation

/// Checks and helpers both HTTP senders share. A message that cannot be expressed on the wire is a
/// permanent failure of that message, never of the device.
enum MessageChecks {
    /// "+60123456778" → "60123456778": both providers want digits only, country code first.
    static func recipientDigits(_ message: OutgoingMessage) throws(SendFailure) -> String {
        let digits = String(message.recipientPhone.filter(\.isASCIIDigit))
        // E.164 allows at most 15 digits; anything under 8 cannot be a full international number.
        guard (8...15).contains(digits.count), digits.count == message.recipientPhone.filter({ $0 != "+" }).count else {
            throw .permanent(
                code: "invalid_recipient",
                message: "recipient \(Redaction.phone(message.recipientPhone)) is not an E.164 number (+ and 8 to 15 digits)",
                pausesDevice: false
            )
        }
        return digits
    }

    static func textBody(_ message: OutgoingMessage) throws(SendFailure) -> String {
        guard let text = message.text, !text.isEmpty else {
            throw .permanent(code: "invalid_message", message: "text message \(message.messageId) has no text", pausesDevice: false)
        }
        return text
    }

    /// WhatsApp refuses media captions over 1,024 characters (text bodies may have 4,096).
    static let maxCaptionLength = 1024

    static func caption(_ message: OutgoingMessage) throws(SendFailure) {
        guard let text = message.text, text.utf8.count > maxCaptionLength else { return }
        let count = text.unicodeScalars.count
        guard count > maxCaptionLength else { return }
        throw .permanent(
            code: "caption_too_long",
            message: "caption of \(message.kind.rawValue) message \(message.messageId) is \(count) characters; WhatsApp allows \(maxCaptionLength)",
            pausesDevice: false
        )
    }

    static func mediaURL(_ message: OutgoingMessage) throws(SendFailure) -> String {
        guard let url = message.mediaUrl, url.hasPrefix("https://") || url.hasPrefix("http://") else {
            throw .permanent(
                code: "invalid_message",
                message: "\(message.kind.rawValue) message \(message.messageId) needs an http(s) mediaUrl",
                pausesDevice: false
            )
        }
        return url
    }

    static func encode(_ body: some Encodable) throws(SendFailure) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(body))
        } catch {
            throw .permanent(code: "encoding", message: "could not encode the request: \(error)", pausesDevice: false)
        }
    }

    /// Provider messages go into status events: keep them short.
    static func truncated(_ text: String, limit: Int = 500) -> String {
        text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }
}

/// Classification by HTTP status alone, for answers without a recognised error code.
enum HTTPStatusFailure {
    static func classify(status: Int, provider: String, detail: String, retryAfterSeconds: Double?) -> SendFailure {
        let code = "http_\(status)"
        let message = MessageChecks.truncated(
            "\(provider) answered HTTP \(status)" + (detail.isEmpty ? "" : ": \(detail)")
        )
        switch status {
        case 408, 425, 429, 500...599:
            // Request timeout, too early, too many requests, server errors: the same request may pass later.
            return .retryable(code: code, message: message, retryAfterSeconds: retryAfterSeconds)
        case 401, 403:
            // Bad or revoked credentials fail every send of the device: park it and hold the message
            // rather than fail the queue one recipient per cool-off.
            return .deviceUnusable(code: code, message: message)
        default:
            return .permanent(code: code, message: message, pausesDevice: false)
        }
    }
}
