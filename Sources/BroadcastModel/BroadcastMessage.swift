import Foundation

/// One WhatsApp message to send: the `broadcast.message.v1` record on `broadcast.messages`,
/// keyed by ``deviceId``.
///
/// Timestamps travel as RFC 3339 strings with millisecond precision; decoded dates are
/// always whole milliseconds so a decode → encode → decode cycle is exact.
public struct BroadcastMessage: Equatable, Sendable {
    /// The schema id this type reads and writes.
    public static let schemaID = RecordSchema.message

    /// Always ``schemaID``; written first in every encoded record.
    public var schema: String { Self.schemaID }
    /// Stable idempotency key, derived deterministically by the publisher.
    public var id: String
    /// The owner of the campaign or sequence.
    public var userId: String
    /// The WhatsApp device that sends; equals the Kafka key.
    public var deviceId: String
    /// What produced the message; decides which origin ids are required.
    public var source: MessageSource
    /// Required when `source` is `.campaign`.
    public var campaignId: String?
    /// Required (with ``sequenceStepId``) when `source` is `.sequence`.
    public var sequenceId: String?
    /// Required (with ``sequenceId``) when `source` is `.sequence`.
    public var sequenceStepId: String?
    public var recipient: Recipient
    public var content: Content
    public var delay: Delay
    /// Not sent before this instant.
    public var scheduledAt: Date
    /// Never sent after this instant, when present.
    public var expiresAt: Date?
    public var createdAt: Date
    /// Template variables such as custom fields.
    public var attributes: [String: String]?
    /// Where the message may move when its device stays paused (nil: it waits for its device).
    public var reroute: Reroute?

    public init(
        id: String, userId: String, deviceId: String, source: MessageSource,
        campaignId: String? = nil, sequenceId: String? = nil, sequenceStepId: String? = nil,
        recipient: Recipient, content: Content, delay: Delay,
        scheduledAt: Date, expiresAt: Date? = nil, createdAt: Date,
        attributes: [String: String]? = nil, reroute: Reroute? = nil
    ) {
        self.id = id
        self.userId = userId
        self.deviceId = deviceId
        self.source = source
        self.campaignId = campaignId
        self.sequenceId = sequenceId
        self.sequenceStepId = sequenceStepId
        self.recipient = recipient
        self.content = content
        self.delay = delay
        self.scheduledAt = scheduledAt
        self.expiresAt = expiresAt
        self.createdAt = createdAt
        self.attributes = attributes
        self.reroute = reroute
    }
}

/// What produced a message.
public enum MessageSource: String, Sendable, Equatable, Codable, CaseIterable {
    case campaign, sequence, api
}

extension BroadcastMessage {
    /// Who receives the message.
    public struct Recipient: Equatable, Sendable, Codable {
        /// E.164, e.g. `+60123456789`.
        public var phone: String
        /// Display name, used for greetings.
        public var name: String?

        public init(phone: String, name: String? = nil) {
            self.phone = phone
            self.name = name
        }
    }

    /// What is sent.
    public struct Content: Equatable, Sendable {
        public enum Kind: String, Sendable, Equatable, Codable, CaseIterable {
            case text, image, video, document, audio
            /// An approved WhatsApp template with its parameters (see ``MessageTemplate``).
            case template

            /// Image, video, document and audio need a `mediaUrl`.
            public var isMedia: Bool { self != .text && self != .template }
        }

        public var type: Kind
        /// The body of a text message, or the caption of a media message.
        public var text: String?
        /// http(s) URL of the media; required for media kinds.
        public var mediaUrl: String?
        /// File name shown for documents.
        public var fileName: String?
        /// Prepend a greeting with the recipient's name at send time.
        public var greeting: Bool
        /// Apply light text variation at send time.
        public var variation: Bool
        /// Required for `.template`, absent otherwise.
        public var template: MessageTemplate?

        public init(
            type: Kind, text: String? = nil, mediaUrl: String? = nil, fileName: String? = nil,
            greeting: Bool = false, variation: Bool = false, template: MessageTemplate? = nil
        ) {
            self.type = type
            self.text = text
            self.mediaUrl = mediaUrl
            self.fileName = fileName
            self.greeting = greeting
            self.variation = variation
            self.template = template
        }

        /// A template message.
        public static func template(_ template: MessageTemplate) -> Content {
            Content(type: .template, template: template)
        }
    }

    /// The random gap, in seconds, since the device's previous send.
    /// A campaign's permission to move the message to another device of its pool when its own
    /// device is paused (a ban-like error or a revoked token) for at least ``afterSeconds``: the
    /// worker republishes it, same id, to the healthiest of ``devices`` and writes `rerouted`.
    public struct Reroute: Equatable, Sendable, Codable {
        /// The most devices a message names (each costs its id's bytes in every record).
        public static let maxDevices = 50
        /// Shortest and longest pause a reroute may wait for: a minute to a week.
        public static let afterSecondsRange: ClosedRange<Double> = 60...604_800

        public var afterSeconds: Double
        /// The campaign's pool; the message's own device may be among them.
        public var devices: [String]

        public init(afterSeconds: Double, devices: [String]) {
            self.afterSeconds = afterSeconds
            self.devices = devices
        }
    }

    public struct Delay: Equatable, Sendable, Codable {
        public var minSeconds: Double
        public var maxSeconds: Double

        public init(minSeconds: Double, maxSeconds: Double) {
            self.minSeconds = minSeconds
            self.maxSeconds = maxSeconds
        }
    }
}
