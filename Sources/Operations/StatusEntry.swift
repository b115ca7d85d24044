import BroadcastModel
import Foundation

/// The part of a status event the board and the projection need. Built from a `StatusEvent` or
/// from a stored projection row, so a restarted board can be seeded from the store.
public struct StatusEntry: Sendable, Equatable {
    public var messageId: String
    public var deviceId: String
    public var campaignId: String?
    public var sequenceId: String?
    public var sequenceStepId: String?
    public var status: MessageStatus
    public var at: Date

    public init(
        messageId: String, deviceId: String, campaignId: String? = nil, sequenceId: String? = nil,
        sequenceStepId: String? = nil, status: MessageStatus, at: Date
    ) {
        self.messageId = messageId
        self.deviceId = deviceId
        self.campaignId = campaignId
        self.sequenceId = sequenceId
        self.sequenceStepId = sequenceStepId
        self.status = status
        self.at = at
    }

    public init(_ event: StatusEvent) {
        self.init(
            messageId: event.messageId, deviceId: event.deviceId, campaignId: event.campaignId,
            sequenceId: event.sequenceId, sequenceStepId: event.sequenceStepId, status: event.status, at: event.at)
    }

    /// Receipts from `broadcast webhooks` know the message id but not always its campaign, sequence
    /// or device: they take those from the entry they follow (and give nothing away).
    public mutating func inheritOrigin(from other: StatusEntry) {
        if campaignId == nil, sequenceId == nil, other.campaignId != nil || other.sequenceId != nil {
            // A receipt: the worker's event knows the campaign and the device id it was sent from.
            campaignId = other.campaignId
            sequenceId = other.sequenceId
            sequenceStepId = other.sequenceStepId
            deviceId = other.deviceId
        }
        if status == .delivered || status == .read || deviceId.isEmpty { deviceId = other.deviceId }
    }

    /// True when this entry should replace `current` as the message's status: the later event wins;
    /// on equal times the higher rank wins, so a final status beats `processing` written in the same
    /// millisecond. Equal time and rank keep the current one, so replays change nothing.
    public func supersedes(_ current: StatusEntry) -> Bool {
        StatusOrder.supersedes(status: status, at: at, current: current.status, currentAt: current.at)
    }
}

/// The one ordering rule shared by the board and the projection.
public enum StatusOrder {
    /// Ties of `at` are broken by this rank: a message moves forward through these states.
    public static func rank(_ status: MessageStatus) -> Int {
        switch status {
        case .queued: 0
        case .processing: 1
        case .retrying: 2
        case .rerouted: 3
        case .failed: 4
        case .expired: 5
        case .skipped: 6
        case .deadLettered: 7
        case .sent: 8
        case .delivered: 9
        case .read: 10
        }
    }

    public static func supersedes(status: MessageStatus, at: Date, current: MessageStatus, currentAt: Date) -> Bool {
        // Receipts travel on Meta's clock (whole seconds) and may arrive before the worker's `sent`:
        // after the provider accepted a message, its lifecycle order decides, not the timestamps.
        if current.isAcceptedByProvider, status.isAcceptedByProvider { return rank(status) > rank(current) }
        if current.isAcceptedByProvider, status == .failed { return true }
        if current == .failed, status.isAcceptedByProvider, status != .sent { return false }
        // Compare in whole milliseconds: that is the precision events travel with.
        let lhs = (at.timeIntervalSince1970 * 1000).rounded(), rhs = (currentAt.timeIntervalSince1970 * 1000).rounded()
        if lhs != rhs { return lhs > rhs }
        return rank(status) > rank(current)
    }
}
