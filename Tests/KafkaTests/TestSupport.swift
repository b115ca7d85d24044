import Foundation
import Kafka
import Synchronization
import Testing

/// An embedded cluster with unique topic names, shut down when the test ends.
final class TestCluster: Sendable {
    let cluster: EmbeddedKafkaCluster
    var bootstrap: String { cluster.bootstrapServers }

    init(brokers: Int = 3) throws {
        cluster = try EmbeddedKafkaCluster(brokers: brokers)
    }

    deinit { cluster.shutDown() }

    func topic(_ name: String = "t", partitions: Int) throws -> String {
        let unique = "\(name)-\(UUID().uuidString.prefix(8))"
        try cluster.createTopic(unique, partitions: partitions)
        return unique
    }

    func producer(_ configure: (inout ProducerConfiguration) -> Void = { _ in }) throws -> KafkaProducer {
        var configuration = ProducerConfiguration(bootstrapServers: bootstrap)
        configuration.client.properties["reconnect.backoff.max.ms"] = "1000"
        configure(&configuration)
        return try KafkaProducer(configuration: configuration)
    }

    func consumer(
        group: String,
        strategy: PartitionAssignmentStrategy = .cooperativeSticky,
        rebalance: RebalanceHandler? = nil,
        _ configure: (inout ConsumerConfiguration) -> Void = { _ in }
    ) throws -> KafkaConsumer {
        var configuration = ConsumerConfiguration(bootstrapServers: bootstrap, groupId: group)
        configuration.assignmentStrategy = strategy
        // The mock rebalances after session.timeout - 1 s; keep it short (see KAFKA-NOTES).
        configuration.sessionTimeoutMilliseconds = 6_000
        configuration.client.properties["reconnect.backoff.max.ms"] = "1000"
        configure(&configuration)
        return try KafkaConsumer(configuration: configuration, rebalanceHandler: rebalance)
    }
}

/// A consumed record copied out of its batch.
struct Received: Sendable, Hashable {
    var partition: Int32
    var offset: Int64
    var key: String?
    var value: String
    var headers: [KafkaHeader]
}

extension ConsumerBatch {
    var received: [Received] {
        map { Received(partition: $0.partition, offset: $0.offset, key: $0.keyString, value: String(decoding: $0.valueBytes ?? [], as: UTF8.self), headers: $0.headers) }
    }
}

/// Reads events until `done` says stop or the deadline passes; returns every message seen.
func collect(
    _ consumer: KafkaConsumer,
    timeout: Duration = .seconds(30),
    onEvent: @escaping @Sendable (ConsumerEvent) -> Void = { _ in },
    until done: @escaping @Sendable ([Received]) -> Bool
) async throws -> [Received] {
    try await withThrowingTaskGroup(of: [Received]?.self) { group in
        group.addTask {
            var seen: [Received] = []
            for await event in consumer.events {
                onEvent(event)
                if case .messages(let batch) = event { seen += batch.received }
                if done(seen) { return seen }
            }
            return seen
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let result = first else {
            Issue.record("timed out after \(timeout) waiting for messages")
            return []
        }
        return result
    }
}

func records(topic: String, count: Int, keys: Int, prefix: String = "v") -> [ProducerRecord] {
    (0..<count).map { ProducerRecord(topic: topic, key: "k\($0 % keys)", value: Array("\(prefix)\($0)".utf8)) }
}

/// Polls `condition` until it holds or `timeout` passes.
func waitUntil(timeout: Duration = .seconds(40), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
}
