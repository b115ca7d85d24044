import BroadcastModel

/// A message rendered for one recipient, ready for a device's sender.
public struct OutgoingMessage: Sendable, Equatable {
    public var messageId: String
    public var deviceId: String
    /// E.164, with the leading `+`.
    public var recipientPhone: String
    public var kind: BroadcastMessage.Content.Kind
    /// The body of a text message or the caption of a media message, after rendering.
    public var text: String?
    public var mediaUrl: String?
    public var fileName: String?
    /// How long a gateway should show "typing…" before sending (gateways that support it).
    public var typingDelayMilliseconds: Int?
    /// For `.template`: the template with its parameters filled for this recipient.
    public var template: MessageTemplate?

    public init(
        messageId: String, deviceId: String, recipientPhone: String, kind: BroadcastMessage.Content.Kind,
        text: String?, mediaUrl: String? = nil, fileName: String? = nil, typingDelayMilliseconds: Int? = nil,
        template: MessageTemplate? = nil
    ) {
        self.template = template
        self.messageId = messageId
        self.deviceId = deviceId
        self.recipientPhone = recipientPhone
        self.kind = kind
        self.text = text
        self.mediaUrl = mediaUrl
        self.fileName = fileName
        self.typingDelayMilliseconds = typingDelayMilliseconds
    }
}

/// The provider accepted the message.
public struct SendReceipt: Sendable, Equatable {
    /// The provider's id for the message (the Cloud API's `wamid…`).
    public var providerMessageId: String

    public init(providerMessageId: String) {
        self.providerMessageId = providerMessageId
    }
}

/// Why a send did not go through, classified so the worker knows what to do next.
public enum SendFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// Try again later (rate limits, 5xx, timeouts); `retryAfterSeconds` is the provider's hint, if any.
    case retryable(code: String, message: String, retryAfterSeconds: Double?)
    /// Sending this message again will not help. `pausesDevice` marks ban-like or quality errors:
    /// the device must rest before it sends anything else.
    case permanent(code: String, message: String, pausesDevice: Bool)
    /// The request left but no answer came back (a read or whole-request timeout): the provider may
    /// have the message. Retried like `retryable`, but the attempt counts as a send for the device's
    /// pacing, since the recipient may already have it.
    case outcomeUnknown(code: String, message: String)
    /// The device's configuration or credentials are wrong (expired token, missing permission,
    /// unknown phone number id): nothing it sends can pass, and the message is not at fault. The
    /// device is parked and the message held until it may send again.
    case deviceUnusable(code: String, message: String)

    public var code: String {
        switch self {
        case .retryable(let code, _, _), .permanent(let code, _, _), .outcomeUnknown(let code, _), .deviceUnusable(let code, _):
            return code
        }
    }

    public var message: String {
        switch self {
        case .retryable(_, let message, _), .permanent(_, let message, _), .outcomeUnknown(_, let message), .deviceUnusable(_, let message):
            return message
        }
    }

    public var isRetryable: Bool {
        switch self {
        case .retryable, .outcomeUnknown: true
        case .permanent, .deviceUnusable: false
        }
    }

    /// The attempt may have reached the recipient.
    public var outcomeUnknown: Bool {
        if case .outcomeUnknown = self { return true }
        return false
    }

    public var pausesDevice: Bool {
        switch self {
        case .permanent(_, _, true), .deviceUnusable: return true
        case .permanent, .retryable, .outcomeUnknown: return false
        }
    }

    /// The message keeps its place while the device is parked (see ``deviceUnusable(code:message:)``).
    public var holdsMessage: Bool {
        if case .deviceUnusable = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .retryable(let code, let message, let after):
            return "retryable \(code): \(message)" + (after.map { " (retry after \($0) s)" } ?? "")
        case .permanent(let code, let message, let pauses):
            return "permanent \(code): \(message)" + (pauses ? " (device paused)" : "")
        case .outcomeUnknown(let code, let message):
            return "outcome unknown \(code): \(message)"
        case .deviceUnusable(let code, let message):
            return "device unusable \(code): \(message) (device parked, message held)"
        }
    }
}

/// Sends messages for devices. The worker knows senders only through this protocol.
public protocol MessageSender: Sendable {
    func send(_ message: OutgoingMessage) async throws(SendFailure) -> SendReceipt
    /// Releases pooled connections; called once at shutdown.
    func shutdown() async
}

extension MessageSender {
    public func shutdown() async {}
}
