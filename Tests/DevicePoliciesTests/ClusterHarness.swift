// Adapted from Tests/WorkerRuntimeTests/WorkerHarness.swift (test targets cannot import each other).
import BroadcastModel
import Foundation
import Kafka
import Synchronization
import WorkerRuntime

/// Shared mutable state for tasks of a test.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
    var value: Value { mutex.withLock { $0 } }
}

/// An embedded cluster with the broadcast topics (opt-outs included) under a unique prefix.
final class ClusterHarness: Sendable {
    let cluster: EmbeddedKafkaCluster
    let topics: TopicNames
    let producer: KafkaProducer

    init(partitions: Int, createOptOuts: Bool = true) throws {
        cluster = try EmbeddedKafkaCluster(brokers: 3)
        topics = TopicNames(prefix: "p\(UUID().uuidString.prefix(6)).")
        for topic in topics.core { try cluster.createTopic(topic, partitions: partitions) }
        if createOptOuts { try cluster.createTopic(topics.optOuts, partitions: 1) }
        var configuration = ProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
        configuration.client.properties["reconnect.backoff.max.ms"] = "1000"
        producer = try KafkaProducer(configuration: configuration)
    }

    deinit { cluster.shutDown() }

    var bootstrap: String { cluster.bootstrapServers }

    func publish(_ messages: [BroadcastMessage]) async throws {
        let results = try await producer.send(messages.map {
            ProducerRecord(topic: topics.messages, key: Array($0.deviceId.utf8), value: $0.encoded(),
                           headers: [KafkaHeader(name: "schema", string: RecordSchema.message)])
        })
        for result in results { _ = try result.get() }
    }

    func consumerConfiguration(group: String) -> ConsumerConfiguration {
        var configuration = ConsumerConfiguration(bootstrapServers: bootstrap, groupId: group)
        configuration.sessionTimeoutMilliseconds = 6_000
        configuration.client.properties["reconnect.backoff.max.ms"] = "1000"
        return configuration
    }

    func workerConsumerConfiguration(group: String) -> ConsumerConfiguration {
        var configuration = consumerConfiguration(group: group)
        configuration.assignmentStrategy = WorkerConfiguration.recommendedAssignmentStrategy
        configuration.heartbeatIntervalMilliseconds = WorkerConfiguration.heartbeatInterval(sessionTimeoutMilliseconds: 6_000)
        return configuration
    }

    func follow(_ topic: String) throws -> TopicFollower {
        try TopicFollower(configuration: consumerConfiguration(group: "follower-\(UUID())"), topic: topic)
    }
}

/// Collects every record of a topic as it arrives.
final class TopicFollower: Sendable {
    let records = Locked<[[UInt8]]>([])
    private let consumer: KafkaConsumer
    private let task: Task<Void, Never>

    init(configuration: ConsumerConfiguration, topic: String) throws {
        let consumer = try KafkaConsumer(configuration: configuration)
        try consumer.subscribe(topics: [topic])
        let records = records
        self.consumer = consumer
        task = Task {
            for await event in consumer.events {
                guard case .messages(let batch) = event else { continue }
                let copied = batch.map { $0.valueBytes ?? [] }
                records.withLock { $0 += copied }
            }
        }
    }

    var statusEvents: [StatusEvent] {
        records.value.compactMap { try? StatusEvent.decode(from: $0) }
    }

    /// Latest final event per message id.
    var finals: [String: StatusEvent] {
        var result: [String: StatusEvent] = [:]
        for event in statusEvents where event.status.isFinal { result[event.messageId] = event }
        return result
    }

    func wait(timeout: Duration = .seconds(60), until condition: (TopicFollower) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(self), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    func close() async {
        await consumer.close()
        _ = await task.value
    }
}
