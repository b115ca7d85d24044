import BroadcastModel
import Foundation

/// Evolution API webhooks (`messages.update` receipts, `messages.upsert` incoming messages), the
/// members we read. Both v1 (`data.key.id`) and v2 (`data.keyId`) shapes of `messages.update`.
struct EvolutionWebhook: Decodable {
    struct Key: Decodable {
        var remoteJid: String?
        var fromMe: Bool?
        var id: String?
    }

    struct Content: Decodable {
        struct Extended: Decodable { var text: String? }
        struct Caption: Decodable { var caption: String? }
        struct ButtonResponse: Decodable { var selectedDisplayText: String? }
        var conversation: String?
        var extendedTextMessage: Extended?
        var imageMessage: Caption?
        var videoMessage: Caption?
        var documentMessage: Caption?
        var buttonsResponseMessage: ButtonResponse?
    }

    struct Payload: Decodable {
        var key: Key?
        var keyId: String?
        var remoteJid: String?
        var fromMe: Bool?
        var status: String?
        var message: Content?
        var messageType: String?
        var messageTimestamp: Double?

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            key = try c.decodeIfPresent(Key.self, forKey: .key)
            keyId = try c.decodeIfPresent(String.self, forKey: .keyId)
            remoteJid = try c.decodeIfPresent(String.self, forKey: .remoteJid)
            fromMe = try c.decodeIfPresent(Bool.self, forKey: .fromMe)
            status = try? c.decodeIfPresent(String.self, forKey: .status)
            message = try? c.decodeIfPresent(Content.self, forKey: .message)
            messageType = try c.decodeIfPresent(String.self, forKey: .messageType)
            // Evolution writes the timestamp as a number or a numeric string.
            messageTimestamp = (try? c.decodeIfPresent(Double.self, forKey: .messageTimestamp))
                ?? (try? c.decodeIfPresent(String.self, forKey: .messageTimestamp)).flatMap { $0.flatMap(Double.init) }
        }

        enum CodingKeys: String, CodingKey {
            case key, keyId, remoteJid, fromMe, status, message, messageType, messageTimestamp
        }
    }

    var event: String
    var instance: String
    var data: Payload
}

extension EvolutionWebhook {
    static let provider = "gateway"

    func events(devices: WebhookDevices, receiver: String, now: Date, lookup: ProviderMessageLookup) -> WebhookTranslation {
        var result = WebhookTranslation()
        let deviceId = devices.gatewayDevice(instance: instance)
        let providerId = data.keyId ?? data.key?.id
        let jid = data.remoteJid ?? data.key?.remoteJid
        let phone = jid.flatMap { PhoneNumber.normalize(String($0.prefix { $0 != "@" && $0 != ":" }), defaultCountryCode: nil) }
        switch event.lowercased().replacingOccurrences(of: "_", with: ".") {
        case "messages.update":
            let kind: MessageStatus
            switch (data.status ?? "").uppercased() {
            case "DELIVERY_ACK": kind = .delivered
            case "READ", "PLAYED": kind = .read
            case "ERROR": kind = .failed
            default:
                result.ignored += 1
                return result
            }
            // A gateway cannot carry our id; its receipts are matched by the provider message id.
            guard let providerId, let messageId = lookup.messageId(forProviderMessageId: providerId) else {
                result.unmatched += 1
                return result
            }
            result.events.append(.status(StatusEvent(
                messageId: messageId, userId: "", deviceId: deviceId, recipientPhone: phone ?? "",
                status: kind, reason: kind == .failed ? StatusEvent.Reason.afterSent : nil, at: now,
                providerMessageId: providerId,
                error: kind == .failed ? StatusEvent.ErrorInfo(code: "gateway_error", message: "the gateway reported the message failed", retryable: false) : nil,
                worker: receiver)))
        case "messages.upsert":
            guard data.key?.fromMe != true, data.fromMe != true else {
                // Our own sends echoed back.
                result.ignored += 1
                return result
            }
            guard let providerId, let phone else {
                result.unmatched += 1
                return result
            }
            let content = data.message
            let text = content?.conversation ?? content?.extendedTextMessage?.text ?? content?.buttonsResponseMessage?.selectedDisplayText
                ?? content?.imageMessage?.caption ?? content?.videoMessage?.caption ?? content?.documentMessage?.caption
            let type: String = switch data.messageType {
            case "conversation"?, "extendedTextMessage"?: "text"
            case "imageMessage"?: "image"
            case "videoMessage"?: "video"
            case "documentMessage"?: "document"
            case "audioMessage"?: "audio"
            case "buttonsResponseMessage"?: "button"
            case let other?: String(other.prefix(32))
            case nil: text == nil ? "unknown" : "text"
            }
            result.events.append(.inbound(InboundMessage(
                id: "\(Self.provider):\(providerId)", deviceId: deviceId, phone: phone, type: type, text: text,
                provider: Self.provider, providerMessageId: providerId,
                at: data.messageTimestamp.map { Date(timeIntervalSince1970: $0) } ?? now, receivedAt: now)))
        default:
            result.ignored += 1
        }
        return result
    }
}
