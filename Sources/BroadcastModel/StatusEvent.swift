import Foundation

/// Where a message is in its life: the `broadcast.status.v1` record on `broadcast.status`,
/// keyed by ``messageId``.
public struct StatusEvent: Equatable, Sendable {
    /// The schema id this type reads and writes.
    public static let schemaID = RecordSchema.status

    /// Always ``schemaID``.
    public var schema: String { Self.schemaID }
    public var messageId: String
    public var userId: String
    public var deviceId: String
    public var campaignId: String?
    public var sequenceId: String?
    public var sequenceStepId: String?
    public var recipientPhone: String
    public var status: MessageStatus
    /// Why a message was held back or dropped; see ``Reason`` for the known values.
    public var reason: String?
    /// Send attempts so far; 0 before the first.
    public var attempt: Int
    public var at: Date
    /// The provider's id for the sent message, e.g. the Cloud API's `wamid`.
    public var providerMessageId: String?
    public var error: ErrorInfo?
    /// The worker instance that wrote the event.
    public var worker: String?
    /// Where the message record was consumed from.
    public var partition: Int32?
    public var offset: Int64?
    /// On a `rerouted` event: the device the message left (``deviceId`` is the one it moved to).
    public var fromDeviceId: String?

    public init(
        messageId: String, userId: String, deviceId: String,
        campaignId: String? = nil, sequenceId: String? = nil, sequenceStepId: String? = nil,
        recipientPhone: String, status: MessageStatus, reason: String? = nil, attempt: Int = 0, at: Date,
        providerMessageId: String? = nil, error: ErrorInfo? = nil, worker: String? = nil,
        partition: Int32? = nil, offset: Int64? = nil, fromDeviceId: String? = nil
    ) {
        self.messageId = messageId
        self.userId = userId
        self.deviceId = deviceId
        self.campaignId = campaignId
        self.sequenceId = sequenceId
        self.sequenceStepId = sequenceStepId
        self.recipientPhone = recipientPhone
        self.status = status
        self.reason = reason
        self.attempt = attempt
        self.at = at
        self.providerMessageId = providerMessageId
        self.error = error
        self.worker = worker
        self.partition = partition
        self.offset = offset
        self.fromDeviceId = fromDeviceId
    }

    /// An event about `message`, copying its ids and recipient.
    public init(
        for message: BroadcastMessage, status: MessageStatus, at: Date, attempt: Int = 0,
        reason: String? = nil, providerMessageId: String? = nil, error: ErrorInfo? = nil,
        worker: String? = nil, partition: Int32? = nil, offset: Int64? = nil
    ) {
        self.init(
            messageId: message.id, userId: message.userId, deviceId: message.deviceId,
            campaignId: message.campaignId, sequenceId: message.sequenceId,
            sequenceStepId: message.sequenceStepId, recipientPhone: message.recipient.phone,
            status: status, reason: reason, attempt: attempt, at: at,
            providerMessageId: providerMessageId, error: error, worker: worker,
            partition: partition, offset: offset)
    }

    /// What went wrong on a send attempt.
    public struct ErrorInfo: Equatable, Sendable, Codable {
        /// A short machine-readable code, e.g. the provider's error code.
        public var code: String
        public var message: String
        /// Whether trying again may succeed.
        public var retryable: Bool

        public init(code: String, message: String, retryable: Bool) {
            self.code = code
            self.message = message
            self.retryable = retryable
        }
    }

    /// Values of ``reason`` that workers write; a string so new reasons need no schema change.
    /// Caps, quiet hours and pauses delay a message and write no status, so they have no reason here.
    public enum Reason {
        public static let optOut = "opt_out"
        public static let cancelled = "cancelled"
        public static let devicePaused = "device_paused"
        /// An operator retired the device (`broadcast device retire`): its messages are not sent.
        public static let deviceRetired = "device_retired"
        /// The contact replied: later sequence steps are not sent.
        public static let replied = "replied"
        /// On a `failed` event from a provider receipt: the message failed after it was `sent`.
        public static let afterSent = "after_sent"
    }

    /// Checks `messageId` (non-empty, at most 128 characters), `attempt` ≥ 0 and, when present,
    /// `partition` and `offset` ≥ 0. Other fields echo a message that may itself be invalid
    /// (a dead-lettered one), so they are not held to the message rules.
    public func validate() throws(ValidationError) {
        var c = IssueCollector()
        c.id(messageId, "messageId")
        c.check(attempt >= 0, "attempt", "must not be negative")
        c.check((partition ?? 0) >= 0, "partition", "must not be negative")
        c.check((offset ?? 0) >= 0, "offset", "must not be negative")
        c.id(fromDeviceId, "fromDeviceId", required: false)
        try c.finish()
    }
}

/// The states of a message; raw values are the wire values.
public enum MessageStatus: String, Sendable, Equatable, Codable, CaseIterable {
    case queued, processing, sent, retrying, failed, skipped, expired
    case deadLettered = "dead_lettered"
    /// The message's device stayed paused, so it moved to another device of its campaign's pool
    /// (``StatusEvent/deviceId``, with ``StatusEvent/fromDeviceId`` the one it left); that
    /// device's events follow under the same message id.
    case rerouted
    /// Receipts after `sent`, from the provider's webhooks: the message reached the phone, and the
    /// contact opened it. A `failed` receipt (reason ``StatusEvent/Reason/afterSent``) may follow either.
    case delivered, read

    /// True when the worker is done with the message (receipts may still follow `sent`).
    public var isFinal: Bool {
        switch self {
        case .sent, .failed, .skipped, .expired, .deadLettered, .delivered, .read: true
        case .queued, .processing, .retrying, .rerouted: false
        }
    }

    /// `sent`, `delivered` or `read`: the provider accepted the message.
    public var isAcceptedByProvider: Bool {
        self == .sent || self == .delivered || self == .read
    }
}
