import Senders
import BroadcastModel
import Foundation

/// Sends through an Evolution-API-style HTTP gateway (a WhatsApp Web session per `instance`):
/// `POST {baseURL}/message/sendText/{instance}` and `POST {baseURL}/message/sendMedia/{instance}`,
/// authenticated with an `apikey` header.
///
/// Classification: 408/429/5xx, timeouts and connection errors are retryable (honouring
/// `Retry-After`); 401/403 (bad api key) and 404 (no such instance) pause the device, because every
/// send of it would fail the same way until the configuration is fixed; other 4xx fail the message.
public struct GatewaySender: MessageSender {
    public struct Configuration: Sendable, Equatable {
        public var baseURL: String
        public var instance: String
        public var apiKey: String
        /// "typing…" time used when the message carries none (milliseconds).
        public var defaultTypingDelayMilliseconds: Int

        public init(baseURL: String, instance: String, apiKey: String, defaultTypingDelayMilliseconds: Int = 0) {
            self.baseURL = baseURL
            self.instance = instance
            self.apiKey = apiKey
            self.defaultTypingDelayMilliseconds = defaultTypingDelayMilliseconds
        }

        func endpoint(_ action: String) -> String {
            let instancePath = instance.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? instance
            return "\(baseURL.trimmingTrailingSlashes)/message/\(action)/\(instancePath)"
        }
    }

    public let configuration: Configuration
    private let transport: HTTPTransport

    public init(configuration: Configuration, transport: HTTPTransport) {
        self.configuration = configuration
        self.transport = transport
    }

    public func send(_ message: OutgoingMessage) async throws(SendFailure) -> SendReceipt {
        if message.kind == .template {
            // WhatsApp Web sessions cannot send Meta's templates: fail this message, the device goes on.
            throw .permanent(
                code: "template_unsupported",
                message: "gateway devices cannot send WhatsApp template messages (\(message.messageId)); send it from a Cloud API device or as text",
                pausesDevice: false
            )
        }
        let number = try MessageChecks.recipientDigits(message)
        let delay = max(0, message.typingDelayMilliseconds ?? configuration.defaultTypingDelayMilliseconds)
        let url: String
        let body: [UInt8]
        if message.kind == .text {
            url = configuration.endpoint("sendText")
            body = try MessageChecks.encode(GatewayTextBody(number: number, text: MessageChecks.textBody(message), delay: delay))
        } else {
            url = configuration.endpoint("sendMedia")
            body = try MessageChecks.encode(GatewayMediaBody(
                number: number,
                mediatype: message.kind.rawValue,
                media: MessageChecks.mediaURL(message),
                caption: message.kind == .audio ? nil : message.text.nonEmpty,
                fileName: message.fileName.nonEmpty,
                delay: delay
            ))
        }
        let response: HTTPTransport.Response
        do {
            response = try await transport.postJSON(url: url, headers: [("apikey", configuration.apiKey)], body: body)
        } catch {
            throw error.sendFailure
        }
        return try interpret(response, recipient: message.recipientPhone)
    }

    /// The transport belongs to the `SenderRegistry`, which shuts it down once for all devices.
    public func shutdown() async {}

    func interpret(_ response: HTTPTransport.Response, recipient: String) throws(SendFailure) -> SendReceipt {
        if (200..<300).contains(response.status) {
            if let answer = try? JSONDecoder().decode(GatewaySuccess.self, from: Data(response.body)), !answer.key.id.isEmpty {
                return SendReceipt(providerMessageId: answer.key.id)
            }
            // Accepted but unreadable: the message may be out, so retrying could send it twice.
            throw .permanent(code: "bad_response", message: "gateway answered \(response.status) without key.id", pausesDevice: false)
        }
        let detail = Redaction.scrub(
            GatewayErrorBody.summary(of: response.body), secrets: [configuration.apiKey], phones: [recipient]
        )
        let retryAfter = RetryAfter.seconds(from: response.header("Retry-After"))
        if response.status == 404 {
            throw .deviceUnusable(
                code: "http_404",
                message: MessageChecks.truncated("gateway has no instance '\(configuration.instance)' (HTTP 404): \(detail)")
            )
        }
        throw HTTPStatusFailure.classify(status: response.status, provider: "gateway", detail: detail, retryAfterSeconds: retryAfter)
    }
}

struct GatewayTextBody: Encodable {
    var number: String
    var text: String
    var delay: Int
}

struct GatewayMediaBody: Encodable {
    var number: String
    var mediatype: String
    var media: String
    var caption: String?
    var fileName: String?
    var delay: Int
}

/// Evolution answers `{"key": {"remoteJid", "fromMe", "id"}, "message": …, "status": "PENDING"}`.
struct GatewaySuccess: Decodable {
    struct Key: Decodable { var id: String }
    var key: Key
}

/// Evolution errors look like `{"status": 400, "error": "Bad Request", "response": {"message": [...]}}`;
/// other gateways differ, so anything unreadable is shown as the start of the raw body.
enum GatewayErrorBody {
    static func summary(of body: [UInt8]) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            return String(decoding: body.prefix(200), as: UTF8.self)
        }
        var parts: [String] = []
        if let error = object["error"] as? String { parts.append(error) }
        if let response = object["response"] as? [String: Any] {
            parts.append(describe(response["message"] ?? response))
        } else if let message = object["message"] {
            parts.append(describe(message))
        }
        return parts.isEmpty ? String(decoding: body.prefix(200), as: UTF8.self) : parts.joined(separator: ": ")
    }

    private static func describe(_ value: Any) -> String {
        if let text = value as? String { return text }
        if let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) {
            return String(decoding: data, as: UTF8.self)
        }
        return String(describing: value)
    }
}
