/// The project's topics. A prefix renames all of them together (several environments on one cluster).
public struct TopicNames: Sendable, Equatable {
    public var prefix: String

    public init(prefix: String = "") {
        self.prefix = prefix
    }

    /// `BroadcastMessage` records, key = device id.
    public var messages: String { prefix + "broadcast.messages" }
    /// `StatusEvent` records, key = message id.
    public var status: String { prefix + "broadcast.status" }
    /// Records a worker could not process, unchanged, with the reason in headers.
    public var deadLetters: String { prefix + "broadcast.dlq" }
    /// Opted-out phones, key = phone (compacted).
    public var optOuts: String { prefix + "broadcast.optouts" }
    /// ``InboundMessage`` records (contacts writing to our devices), key = device id.
    public var inbound: String { prefix + "broadcast.inbound" }
    /// Each device's safety state (``DeviceStateRecord``: caps, warm-up, pause, last send, operator
    /// status), key = device id (compacted).
    public var devices: String { prefix + "broadcast.devices" }
    /// Campaign control (pause, resume, cancel), key = campaign id (compacted).
    public var control: String { prefix + "broadcast.control" }

    /// The topics every deployment needs.
    public var core: [String] { [messages, status, deadLetters, inbound] }
    /// Keyed state whose latest record per key matters (create them with cleanup.policy=compact).
    public var compacted: [String] { [optOuts, control, devices] }
    public var all: [String] { core + compacted }
}
