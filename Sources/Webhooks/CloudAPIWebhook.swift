import BroadcastModel
import Foundation

/// The Cloud API's webhook body (`object: whatsapp_business_account`), the members we read.
struct CloudAPIWebhook: Decodable {
    struct Entry: Decodable {
        var id: String?
        var changes: [Change]?
    }

    struct Change: Decodable {
        var field: String?
        var value: Value?
    }

    struct Value: Decodable {
        struct Metadata: Decodable {
            var phone_number_id: String?
            var display_phone_number: String?
        }

        var messaging_product: String?
        var metadata: Metadata?
        var statuses: [Status]?
        var messages: [Message]?
    }

    struct Status: Decodable {
        struct Failure: Decodable {
            struct Details: Decodable { var details: String? }
            var code: Int?
            var title: String?
            var message: String?
            var error_data: Details?
        }

        var id: String
        var status: String
        var timestamp: String?
        var recipient_id: String?
        var biz_opaque_callback_data: String?
        var errors: [Failure]?
    }

    struct Message: Decodable {
        struct Body: Decodable { var body: String? }
        struct Caption: Decodable { var caption: String? }
        struct Button: Decodable { var text: String?; var payload: String? }
        struct Reply: Decodable { var id: String?; var title: String? }
        struct Interactive: Decodable { var button_reply: Reply?; var list_reply: Reply? }
        struct Context: Decodable { var id: String? }

        var from: String
        var id: String
        var timestamp: String?
        var type: String?
        var text: Body?
        var button: Button?
        var interactive: Interactive?
        var image: Caption?
        var video: Caption?
        var document: Caption?
        var context: Context?

        /// What the contact wrote: the body, the pressed button's or reply's title, or a caption.
        var visibleText: String? {
            text?.body ?? button?.text ?? button?.payload ?? interactive?.button_reply?.title
                ?? interactive?.list_reply?.title ?? image?.caption ?? video?.caption ?? document?.caption
        }
    }

    var object: String?
    var entry: [Entry]?
}

/// Meta's timestamps are Unix seconds as strings.
enum WebhookTime {
    static func date(unixSeconds text: String?, fallback: Date) -> Date {
        guard let text, let seconds = Double(text), seconds > 0 else { return fallback }
        return Date(timeIntervalSince1970: seconds)
    }
}

extension CloudAPIWebhook {
    static let provider = "whatsapp-cloud"

    /// Events of one body; statuses nothing can match are counted in `unmatched`.
    func events(devices: WebhookDevices, receiver: String, now: Date) -> WebhookTranslation {
        var result = WebhookTranslation()
        for entry in entry ?? [] {
            for change in entry.changes ?? [] {
                guard let value = change.value else { continue }
                let numberId = value.metadata?.phone_number_id ?? ""
                let deviceId = devices.cloudDevice(phoneNumberId: numberId)
                for status in value.statuses ?? [] {
                    translate(status, deviceId: deviceId, receiver: receiver, now: now, into: &result)
                }
                for message in value.messages ?? [] {
                    guard let phone = PhoneNumber.normalize(message.from, defaultCountryCode: nil) ?? e164(message.from) else {
                        result.unmatched += 1
                        continue
                    }
                    let inbound = InboundMessage(
                        id: "\(Self.provider):\(message.id)", deviceId: deviceId, phone: phone,
                        type: message.type ?? "unknown", text: message.visibleText, provider: Self.provider,
                        providerMessageId: message.id, contextMessageId: message.context?.id,
                        at: WebhookTime.date(unixSeconds: message.timestamp, fallback: now), receivedAt: now)
                    result.events.append(.inbound(inbound))
                }
            }
        }
        return result
    }

    private func translate(_ status: Status, deviceId: String, receiver: String, now: Date, into result: inout WebhookTranslation) {
        let kind: MessageStatus
        switch status.status {
        case "delivered": kind = .delivered
        case "read": kind = .read
        case "failed": kind = .failed
        default:
            // "sent" repeats what the worker wrote when the API accepted the message; others are informational.
            result.ignored += 1
            return
        }
        guard let messageId = status.biz_opaque_callback_data, !messageId.isEmpty, messageId.utf8.count <= RecordLimits.maxIdLength else {
            // Sent by something else on this number, or before the callback data was set.
            result.unmatched += 1
            return
        }
        var error: StatusEvent.ErrorInfo?
        if kind == .failed {
            let first = status.errors?.first
            var text = first?.title ?? first?.message ?? "failed after it was sent"
            if let details = first?.error_data?.details, !details.isEmpty, details != text { text += ": \(details)" }
            error = StatusEvent.ErrorInfo(code: first?.code.map(String.init) ?? "unknown", message: String(text.prefix(500)), retryable: false)
        }
        let event = StatusEvent(
            messageId: messageId, userId: "", deviceId: deviceId,
            recipientPhone: status.recipient_id.flatMap(e164) ?? "",
            status: kind, reason: kind == .failed ? StatusEvent.Reason.afterSent : nil, attempt: 0,
            at: WebhookTime.date(unixSeconds: status.timestamp, fallback: now),
            providerMessageId: status.id, error: error, worker: receiver)
        result.events.append(.status(event))
    }
}

/// "60123456778" → "+60123456778" when that is E.164; WhatsApp ids are digits with the country code.
func e164(_ digits: String) -> String? {
    let candidate = digits.hasPrefix("+") ? digits : "+" + digits
    return PhoneNumber.isE164(candidate) ? candidate : nil
}
