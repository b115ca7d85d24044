import BroadcastModel
import Foundation
import Kafka
import Logging
import Synchronization

/// Provider message id → our message id, from the `sent` events on `broadcast.status`: how gateway
/// receipts (which cannot echo our id) find their message. Keeps the newest `capacity` sends; a
/// receipt for an older one is counted as unmatched.
public final class SentMessageIndex: ProviderMessageLookup, Sendable {
    private struct State {
        var ids: [String: String] = [:]
        var order: [String] = []
        var head = 0
    }

    public let capacity: Int
    private let state = Mutex(State())

    public init(capacity: Int = 1_000_000) {
        self.capacity = max(1, capacity)
    }

    public func record(providerMessageId: String, messageId: String) {
        state.withLock { state in
            guard state.ids.updateValue(messageId, forKey: providerMessageId) == nil else { return }
            if state.order.count < capacity {
                state.order.append(providerMessageId)
            } else {
                state.ids.removeValue(forKey: state.order[state.head])
                state.order[state.head] = providerMessageId
                state.head = (state.head + 1) % capacity
            }
        }
    }

    public func messageId(forProviderMessageId id: String) -> String? {
        state.withLock { $0.ids[id] }
    }

    public var count: Int { state.withLock { $0.ids.count } }
}

/// Feeds a ``SentMessageIndex`` from the status topic (from the beginning, a group of its own, no commits).
public final class SentMessageIndexFollower: Sendable {
    private let consumer: KafkaConsumer
    private let task = Mutex<Task<Void, Never>?>(nil)
    public let index: SentMessageIndex

    public init(client: KafkaClientOptions, topic: String, index: SentMessageIndex, logger: Logger = Logger(label: "broadcast.webhooks")) throws(KafkaError) {
        var configuration = ConsumerConfiguration(client: client, groupId: "broadcast-webhooks-index-\(UUID().uuidString.prefix(8))")
        configuration.startFromEarliest = true
        consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        try consumer.subscribe(topics: [topic])
        self.index = index
    }

    public func start() {
        let index = index
        let work = Task { [consumer] in
            for await event in consumer.events {
                guard case .messages(let batch) = event else { continue }
                for message in batch {
                    guard let bytes = message.valueBytes, let event = try? StatusEvent.decode(from: bytes),
                          event.status == .sent, let provider = event.providerMessageId else { continue }
                    index.record(providerMessageId: provider, messageId: event.messageId)
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
