import BroadcastModel
import Foundation
import Kafka
import Logging
import Synchronization

/// Ends a contact's sequence enrolments when the contact writes to any of our devices: follows
/// `broadcast.inbound` (written by `broadcast webhooks`) in a consumer group of its own and stops
/// the phone's active enrolments (reason `replied`) before committing past the message, so a
/// restart neither misses a reply nor stops an enrolment made after one it already handled.
public final class ReplyFollower: Sendable {
    public static let stopReason = StatusEvent.Reason.replied
    public static let defaultGroup = "broadcast-sequences-replies"
    /// Inbound types that are not a reply (a reaction to our message does not end a conversation).
    static let notReplies: Set<String> = ["reaction", "unknown", "system", "unsupported"]

    public let topic: String
    private let store: any SequenceStore
    private let consumer: KafkaConsumer
    private let logger: Logger
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let stoppedCount = Mutex(0)

    public init(
        consumer configuration: ConsumerConfiguration, topic: String, store: any SequenceStore,
        logger: Logger = Logger(label: "broadcast.sequences.replies")
    ) throws(KafkaError) {
        var configuration = configuration
        configuration.startFromEarliest = true
        consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        self.topic = topic
        self.store = store
        self.logger = logger
    }

    /// Enrolments stopped so far.
    public var stopped: Int { stoppedCount.withLock { $0 } }

    public func start() throws(KafkaError) {
        try consumer.subscribe(topics: [topic])
        let work = Task { [self] in
            for await event in consumer.events {
                guard case .messages(let batch) = event else { continue }
                var replies: [(phone: String, at: Date)] = []
                var next: [TopicPartition: Int64] = [:]
                for message in batch {
                    next[TopicPartition(topic: message.topic, partition: message.partition)] = message.offset + 1
                    guard let bytes = message.valueBytes, let inbound = try? InboundMessage.decodeValidated(from: bytes) else {
                        logger.warning("unreadable inbound record skipped", metadata: ["partition": "\(message.partition)", "offset": "\(message.offset)"])
                        continue
                    }
                    if !Self.notReplies.contains(inbound.type) { replies.append((inbound.phone, inbound.at)) }
                }
                await stopAll(replies)
                let offsets = next.map { TopicPartitionOffset(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value) }
                do {
                    try await consumer.commit(offsets)
                } catch {
                    // The next commit covers these offsets; stopping twice changes nothing.
                    logger.debug("reply offsets not committed yet", metadata: ["error": "\(error)"])
                }
            }
        }
        task.withLock { $0 = work }
    }

    /// Retries a failing store (a locked SQLite file) rather than skip a reply.
    private func stopAll(_ replies: [(phone: String, at: Date)]) async {
        for reply in replies {
            var attempt = 0
            while !Task.isCancelled {
                do {
                    let sequences = try await store.stop(phone: reply.phone, reason: Self.stopReason, at: Date())
                    if !sequences.isEmpty {
                        stoppedCount.withLock { $0 += sequences.count }
                        logger.info("contact replied; sequence enrolments stopped", metadata: [
                            "phone": "\(PhoneNumber.masked(reply.phone))", "sequences": "\(sequences.joined(separator: ","))",
                        ])
                    }
                    break
                } catch {
                    attempt += 1
                    logger.error("could not stop enrolments after a reply; retrying", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                    try? await Task.sleep(for: .seconds(min(30, 1 << min(attempt, 5))))
                }
            }
        }
    }

    public func close() async {
        await consumer.close()
        let work = task.withLock { $0 }
        await work?.value
    }
}
