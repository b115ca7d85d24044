import Senders
import BroadcastModel
import Foundation

/// Sends through Meta's WhatsApp Cloud API:
/// `POST {baseURL}/{apiVersion}/{phoneNumberId}/messages` with a bearer token.
public struct CloudAPISender: MessageSender {
    public struct Configuration: Sendable, Equatable {
        public static let defaultBaseURL = "https://graph.facebook.com"
        /// A current Graph API version (v21.0 stops working in January 2027); devices may pin another.
        public static let defaultAPIVersion = "v23.0"

        public var baseURL: String
        public var apiVersion: String
        public var phoneNumberId: String
        public var accessToken: String
        /// Meta's throughput limit of one business number (80 messages a second by default; higher
        /// tiers are granted per number).
        public var messagesPerSecond: Double
        /// Meta's pair rate limit (error 131056): at most one message to the same phone about every 6 s.
        public var samePhoneGapSeconds: Double

        public static let defaultMessagesPerSecond = 80.0
        public static let defaultSamePhoneGapSeconds = 6.0

        public init(
            phoneNumberId: String, accessToken: String,
            baseURL: String = Configuration.defaultBaseURL, apiVersion: String = Configuration.defaultAPIVersion,
            messagesPerSecond: Double = Configuration.defaultMessagesPerSecond,
            samePhoneGapSeconds: Double = Configuration.defaultSamePhoneGapSeconds
        ) {
            self.baseURL = baseURL
            self.apiVersion = apiVersion
            self.phoneNumberId = phoneNumberId
            self.accessToken = accessToken
            self.messagesPerSecond = messagesPerSecond
            self.samePhoneGapSeconds = samePhoneGapSeconds
        }

        var endpoint: String {
            "\(baseURL.trimmingTrailingSlashes)/\(apiVersion)/\(phoneNumberId)/messages"
        }
    }

    public let configuration: Configuration
    private let transport: HTTPTransport

    public init(configuration: Configuration, transport: HTTPTransport) {
        self.configuration = configuration
        self.transport = transport
    }

    public func send(_ message: OutgoingMessage) async throws(SendFailure) -> SendReceipt {
        let body = try CloudAPIRequestBody(message).encoded()
        let response: HTTPTransport.Response
        do {
            response = try await transport.postJSON(
                url: configuration.endpoint,
                headers: [("Authorization", "Bearer \(configuration.accessToken)")],
                body: body
            )
        } catch {
            throw error.sendFailure
        }
        return try interpret(response, recipient: message.recipientPhone)
    }

    /// The transport belongs to the `SenderRegistry`, which shuts it down once for all devices.
    public func shutdown() async {}

    func interpret(_ response: HTTPTransport.Response, recipient: String) throws(SendFailure) -> SendReceipt {
        let decoder = JSONDecoder()
        if (200..<300).contains(response.status) {
            if let answer = try? decoder.decode(CloudAPISuccess.self, from: Data(response.body)),
               let id = answer.messages.first?.id, !id.isEmpty {
                return SendReceipt(providerMessageId: id)
            }
            // Accepted but unreadable: the message may be out, so retrying could send it twice.
            throw .permanent(
                code: "bad_response",
                message: "Cloud API answered \(response.status) without messages[0].id",
                pausesDevice: false
            )
        }
        let envelope = try? decoder.decode(CloudAPIErrorEnvelope.self, from: Data(response.body))
        let retryAfter = RetryAfter.seconds(from: response.header("Retry-After"))
        let scrub = { (text: String) in
            Redaction.scrub(text, secrets: [configuration.accessToken], phones: [recipient])
        }
        guard let error = envelope?.error, let code = error.code else {
            throw HTTPStatusFailure.classify(
                status: response.status, provider: "Cloud API", detail: scrub(String(decoding: response.body.prefix(200), as: UTF8.self)),
                retryAfterSeconds: retryAfter
            )
        }
        // Template errors (132xxx) are named, so an operator sees which template problem it was.
        var message = scrub(error.summary)
        if let name = CloudAPIErrorCodes.name(of: code) { message = "\(name): \(message)" }
        // 100 with subcode 33: "object with ID does not exist": the phoneNumberId is wrong or the
        // token cannot see it, so every send of the device would fail the same way.
        if code == 100, error.error_subcode == 33 {
            throw .deviceUnusable(code: String(code), message: message)
        }
        switch CloudAPIErrorCodes.classify(code) {
        case .retryable(let minimum):
            throw .retryable(code: String(code), message: message, retryAfterSeconds: retryAfter ?? minimum)
        case .permanent:
            throw .permanent(code: String(code), message: message, pausesDevice: false)
        case .pausesDevice:
            throw .permanent(code: String(code), message: message, pausesDevice: true)
        case .parksDevice:
            throw .deviceUnusable(code: String(code), message: message)
        case nil:
            // An unknown code: trust the HTTP status, but keep Meta's code for the status event.
            switch HTTPStatusFailure.classify(status: response.status, provider: "Cloud API", detail: message, retryAfterSeconds: retryAfter) {
            case .retryable(_, _, let after): throw .retryable(code: String(code), message: message, retryAfterSeconds: after)
            case .permanent(_, _, let pauses): throw .permanent(code: String(code), message: message, pausesDevice: pauses)
            case .outcomeUnknown: throw .outcomeUnknown(code: String(code), message: message)
            case .deviceUnusable: throw .deviceUnusable(code: String(code), message: message)
            }
        }
    }
}

// MARK: - Wire format

/// The documented "send message" body. Optional parts left nil are omitted from the JSON.
struct CloudAPIRequestBody: Encodable {
    struct Text: Encodable {
        var body: String
        var preview_url: Bool
    }

    struct Media: Encodable {
        var link: String
        var caption: String?
        var filename: String?
    }

    var messaging_product = "whatsapp"
    var recipient_type = "individual"
    var to: String
    var type: String
    /// Our message id: Meta echoes it in every status webhook of the message, which is how
    /// `broadcast webhooks` matches receipts without a lookup table.
    var biz_opaque_callback_data: String
    var text: Text?
    var image: Media?
    var video: Media?
    var document: Media?
    var audio: Media?
    var template: CloudAPITemplate?

    init(_ message: OutgoingMessage) throws(SendFailure) {
        to = try MessageChecks.recipientDigits(message)
        type = message.kind.rawValue
        biz_opaque_callback_data = message.messageId
        if message.kind.isMedia, message.kind != .audio {
            try MessageChecks.caption(message)
        }
        switch message.kind {
        case .template:
            template = try CloudAPITemplate(message)
        case .text:
            let body = try MessageChecks.textBody(message)
            // Link previews only when there is a link to preview.
            text = Text(body: body, preview_url: body.contains("http://") || body.contains("https://"))
        case .image:
            image = Media(link: try MessageChecks.mediaURL(message), caption: message.text.nonEmpty)
        case .video:
            video = Media(link: try MessageChecks.mediaURL(message), caption: message.text.nonEmpty)
        case .document:
            document = Media(
                link: try MessageChecks.mediaURL(message), caption: message.text.nonEmpty, filename: message.fileName.nonEmpty
            )
        case .audio:
            // Audio messages carry no caption on WhatsApp.
            audio = Media(link: try MessageChecks.mediaURL(message))
        }
    }

    func encoded() throws(SendFailure) -> [UInt8] {
        try MessageChecks.encode(self)
    }
}

struct CloudAPISuccess: Decodable {
    struct Message: Decodable { var id: String }
    var messages: [Message]
}

/// Graph API error envelope: `{"error": {"message", "type", "code", "error_data": {"details"}, "error_subcode", "fbtrace_id"}}`.
struct CloudAPIErrorEnvelope: Decodable {
    struct Body: Decodable {
        struct ErrorData: Decodable { var details: String? }
        var message: String?
        var type: String?
        var code: Int?
        var error_subcode: Int?
        var error_data: ErrorData?
        var fbtrace_id: String?

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            message = try? container.decodeIfPresent(String.self, forKey: .message)
            type = try? container.decodeIfPresent(String.self, forKey: .type)
            // Meta sends numbers; some BSP proxies pass codes on as strings.
            code = (try? container.decodeIfPresent(Int.self, forKey: .code))
                ?? (try? container.decodeIfPresent(String.self, forKey: .code)).flatMap { $0.flatMap(Int.init) }
            error_subcode = try? container.decodeIfPresent(Int.self, forKey: .error_subcode)
            error_data = try? container.decodeIfPresent(ErrorData.self, forKey: .error_data)
            fbtrace_id = try? container.decodeIfPresent(String.self, forKey: .fbtrace_id)
        }

        enum CodingKeys: String, CodingKey {
            case message, type, code, error_subcode, error_data, fbtrace_id
        }

        /// "(#131047) Re-engagement message: More than 24 hours have passed… [subcode 2494010, fbtrace A1b2]"
        var summary: String {
            var text = message ?? "Cloud API error"
            if let details = error_data?.details, !details.isEmpty, details != message { text += ": \(details)" }
            var extras: [String] = []
            if let error_subcode { extras.append("subcode \(error_subcode)") }
            if let fbtrace_id { extras.append("fbtrace \(fbtrace_id)") }
            if !extras.isEmpty { text += " [\(extras.joined(separator: ", "))]" }
            return MessageChecks.truncated(text)
        }
    }

    var error: Body
}

extension Optional where Wrapped == String {
    /// nil for nil or empty: an empty caption is no caption.
    var nonEmpty: String? {
        guard let self, !self.isEmpty else { return nil }
        return self
    }
}

extension String {
    var trimmingTrailingSlashes: String {
        var text = self
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }
}
