import BroadcastModel
import Foundation
import Kafka
import Synchronization

/// Reads the status topic from the beginning in the background and keeps every event.
final class StatusCollector: Sendable {
    private final class Log: Sendable {
        let events = Mutex<[StatusEvent]>([])
    }

    private let log = Log()
    private let consumer: KafkaConsumer
    private let task: Task<Void, Never>

    init(bootstrapServers: String, topic: String) throws {
        var configuration = ConsumerConfiguration(bootstrapServers: bootstrapServers, groupId: "broadcast-dev-status-\(UUID().uuidString)")
        configuration.assignmentStrategy = .roundRobin
        let consumer = try KafkaConsumer(configuration: configuration)
        try consumer.subscribe(topics: [topic])
        self.consumer = consumer
        let log = log
        task = Task {
            for await event in consumer.events {
                guard case .messages(let batch) = event else { continue }
                let decoded = batch.compactMap { message in message.value.flatMap { try? StatusEvent.decode(from: $0) } }
                log.events.withLock { $0 += decoded }
            }
        }
    }

    var snapshot: [StatusEvent] { log.events.withLock { $0 } }

    func close() async {
        await consumer.close()
        _ = await task.value
    }
}
