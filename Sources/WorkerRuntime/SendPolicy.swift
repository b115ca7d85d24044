import BroadcastModel
import Foundation
import Senders

/// What to do with a message whose turn has come.
public enum PolicyDecision: Sendable, Equatable {
    case send(OutgoingMessage)
    /// Not yet (cap, quiet hours, paused device): the message keeps its place in its lane.
    case hold(until: Date, reason: String)
    /// Never (opt-out, cancelled): finished with status `skipped` and this reason.
    case skip(reason: String)
}

/// Anti-spam and rendering, applied at send time per device. The worker knows it only through this.
public protocol SendPolicy: Sendable {
    func decide(_ message: BroadcastMessage, attempt: Int, now: Date) -> PolicyDecision
    /// The message reached the sender (counts towards caps).
    func didSend(_ message: BroadcastMessage, at: Date)
    /// A send failed; for ban-like failures returns when the device may send again.
    func didFail(_ message: BroadcastMessage, failure: SendFailure, at: Date) -> Date?
}

/// Sends the text as written: no caps, windows or rendering. For tests and benchmarks.
public struct PassThroughPolicy: SendPolicy {
    public init() {}

    public func decide(_ message: BroadcastMessage, attempt: Int, now: Date) -> PolicyDecision {
        .send(OutgoingMessage(
            messageId: message.id, deviceId: message.deviceId, recipientPhone: message.recipient.phone,
            kind: message.content.type, text: message.content.text, mediaUrl: message.content.mediaUrl,
            fileName: message.content.fileName,
            template: message.content.template?.filled(name: message.recipient.name, attributes: message.attributes ?? [:]).template
        ))
    }

    public func didSend(_ message: BroadcastMessage, at: Date) {}
    public func didFail(_ message: BroadcastMessage, failure: SendFailure, at: Date) -> Date? { nil }
}

/// Finds the sender of a device.
public protocol SenderDirectory: Sendable {
    func sender(for deviceId: String) -> any MessageSender
    func shutdown() async
}

/// Every device uses the same sender.
public struct SingleSenderDirectory: SenderDirectory {
    public let sender: any MessageSender
    public init(_ sender: any MessageSender) { self.sender = sender }
    public func sender(for deviceId: String) -> any MessageSender { sender }
    public func shutdown() async { await sender.shutdown() }
}
