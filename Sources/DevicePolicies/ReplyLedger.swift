import BroadcastModel
import Foundation
import Kafka
import Logging
import Synchronization

/// When each contact last wrote to one of our devices, from `broadcast.inbound`. The worker skips a
/// sequence step (status `skipped`, reason `replied`) published before the contact's latest reply:
/// the scheduler stops the enrolment, and this catches steps it had already published.
public final class ReplyLedger: Sendable {
    private let latest = Mutex<[String: Date]>([:])

    public init() {}

    public func record(phone: String, at: Date) {
        latest.withLock { map in
            if let known = map[phone], known >= at { return }
            map[phone] = at
        }
    }

    /// True when the contact wrote at or after `date`.
    public func replied(_ phone: String, since date: Date) -> Bool {
        latest.withLock { $0[phone] }.map { $0 >= date } ?? false
    }

    public var count: Int { latest.withLock { $0.count } }
}

/// Keeps a ``ReplyLedger`` up to date: reads the inbound topic from the beginning under a group of
/// its own, never committing (every worker needs every reply), like the opt-out follower.
public final class InboundReplyFollower: Sendable {
    public let topic: String
    public let ledger: ReplyLedger
    private let consumer: KafkaConsumer
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Inbound types that are not replies (a reaction to our message does not end a conversation).
    static let notReplies: Set<String> = ["reaction", "unknown", "system", "unsupported"]

    public init(
        client: KafkaClientOptions, topic: String, ledger: ReplyLedger, groupPrefix: String = "broadcast-replies",
        logger: Logger = Logger(label: "broadcast.replies")
    ) throws(KafkaError) {
        var configuration = ConsumerConfiguration(client: client, groupId: "\(groupPrefix)-\(UUID().uuidString.prefix(8))")
        configuration.startFromEarliest = true
        if configuration.client.properties["topic.metadata.refresh.interval.ms"] == nil {
            configuration.client.properties["topic.metadata.refresh.interval.ms"] = "5000"
        }
        consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        self.topic = topic
        self.ledger = ledger
    }

    public func start() throws(KafkaError) {
        try consumer.subscribe(topics: [topic])
        let ledger = ledger
        let work = Task { [consumer] in
            for await event in consumer.events {
                guard case .messages(let batch) = event else { continue }
                for message in batch {
                    guard let bytes = message.valueBytes, let inbound = try? InboundMessage.decodeValidated(from: bytes),
                          !Self.notReplies.contains(inbound.type) else { continue }
                    ledger.record(phone: inbound.phone, at: inbound.at)
                }
            }
        }
        task.withLock { $0 = work }
    }

    public func close() async {
        await consumer.close()
        let work = task.withLock { $0 }
        await work?.value
    }
}
