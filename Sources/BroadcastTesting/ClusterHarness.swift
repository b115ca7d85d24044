import BroadcastModel
import Foundation
import Kafka
import Senders
import Synchronization
import WorkerRuntime

/// Shared mutable state for tasks of a test.
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    public init(_ value: Value) { mutex = Mutex(value) }
    public func withLock<R>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
    public var value: Value { mutex.withLock { $0 } }
}

/// An embedded cluster with the broadcast topics under a unique prefix, a producer, and the
/// consumer settings tests and in-process workers use.
public final class ClusterHarness: Sendable {
    public let cluster: EmbeddedKafkaCluster
    public let topics: TopicNames
    public let producer: KafkaProducer

    /// `compactedTopics` false leaves out the opt-out and control topics (a worker must start without them).
    /// `idempotentProducer` false: see `ChaosTests.injectedErrors` (the mock does not honour
    /// idempotent retries under injected produce errors).
    public init(partitions: Int, compactedTopics: Bool = true, idempotentProducer: Bool = true) throws {
        cluster = try EmbeddedKafkaCluster(brokers: 3)
        topics = TopicNames(prefix: "t\(UUID().uuidString.prefix(6)).")
        for topic in compactedTopics ? topics.all : topics.core { try cluster.createTopic(topic, partitions: partitions) }
        var configuration = ProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
        configuration.client.properties["reconnect.backoff.max.ms"] = "1000"
        configuration.idempotence = idempotentProducer
        producer = try KafkaProducer(configuration: configuration)
    }

    // The producer goes first: a client left running after its cluster logs a connection error per
    // broker until it is released.
    deinit {
        producer.closeNow()
        cluster.shutDown()
    }

    public var bootstrap: String { cluster.bootstrapServers }

    /// Publishes messages keyed by device, as the publishers do.
    public func publish(_ messages: [BroadcastMessage]) async throws {
        let results = try await producer.send(messages.map {
            ProducerRecord(topic: topics.messages, key: Array($0.deviceId.utf8), value: $0.encoded(), headers: [KafkaHeader(RecordSchema.messageHeader)])
        })
        for result in results { _ = try result.get() }
    }

    public func publishRaw(key: [UInt8]?, value: [UInt8]?) async throws {
        _ = try await producer.send(ProducerRecord(topic: topics.messages, key: key, value: value))
    }

    public func consumerConfiguration(group: String) -> ConsumerConfiguration {
        var configuration = ConsumerConfiguration(bootstrapServers: bootstrap, groupId: group)
        configuration.sessionTimeoutMilliseconds = 6_000
        configuration.client.properties["reconnect.backoff.max.ms"] = "1000"
        return configuration
    }

    public func workerConsumerConfiguration(group: String) -> ConsumerConfiguration {
        var configuration = consumerConfiguration(group: group)
        configuration.assignmentStrategy = WorkerConfiguration.recommendedAssignmentStrategy
        configuration.heartbeatIntervalMilliseconds = WorkerConfiguration.heartbeatInterval(sessionTimeoutMilliseconds: 6_000)
        return configuration
    }

    /// Starts an in-process worker; stop it with `shutdown()` and await the task.
    public func startWorker(
        name: String, group: String = "workers", sender: any MessageSender, policy: any SendPolicy = PassThroughPolicy(),
        deviceState: (any DeviceStateJournal)? = nil, configure: (inout WorkerConfiguration) -> Void = { _ in }
    ) throws -> (worker: DeviceWorkerService, task: Task<Void, any Error>) {
        var configuration = WorkerConfiguration(topics: topics, workerName: name)
        configuration.commitInterval = .milliseconds(100)
        configure(&configuration)
        let worker = try DeviceWorkerService(
            configuration: configuration, consumer: workerConsumerConfiguration(group: group),
            producer: producer, senders: SingleSenderDirectory(sender), policy: policy, deviceState: deviceState
        )
        return (worker, Task { try await worker.run() })
    }

    /// The group's committed offset per partition of the messages topic (negative: none yet).
    public func committedOffsets(group: String, partitions: Int) async throws -> [Int32: Int64] {
        let reader = try KafkaConsumer(configuration: consumerConfiguration(group: group))
        let committed = try await reader.committed((0..<Int32(partitions)).map { TopicPartition(topic: topics.messages, partition: $0) })
        await reader.close()
        return Dictionary(committed.map { ($0.partition, $0.offset) }, uniquingKeysWith: max)
    }

    /// Reads a topic from the beginning in the background.
    public func follow(_ topic: String) throws -> TopicFollower {
        try TopicFollower(configuration: consumerConfiguration(group: "follower-\(UUID())"), topic: topic)
    }
}

/// Collects every record of a topic as it arrives.
public final class TopicFollower: Sendable {
    public struct Record: Sendable {
        public var key: String?
        public var value: [UInt8]
        public var headers: [KafkaHeader]
        public var partition: Int32
        public var offset: Int64
    }

    public let records = Locked<[Record]>([])
    private let consumer: KafkaConsumer
    private let task: Task<Void, Never>

    public init(configuration: ConsumerConfiguration, topic: String) throws {
        let consumer = try KafkaConsumer(configuration: configuration)
        try consumer.subscribe(topics: [topic])
        let records = records
        self.consumer = consumer
        task = Task {
            for await event in consumer.events {
                guard case .messages(let batch) = event else { continue }
                let copied = batch.map {
                    Record(key: $0.keyString, value: $0.valueBytes ?? [], headers: $0.headers, partition: $0.partition, offset: $0.offset)
                }
                records.withLock { $0 += copied }
            }
        }
    }

    public var statusEvents: [StatusEvent] {
        records.value.compactMap { try? StatusEvent.decode(from: $0.value) }
    }

    /// Latest final event per message id.
    public var finals: [String: StatusEvent] {
        var result: [String: StatusEvent] = [:]
        for event in statusEvents where event.status.isFinal { result[event.messageId] = event }
        return result
    }

    /// Waits until `condition` holds for what was read, or the timeout passes.
    public func wait(timeout: Duration = .seconds(60), until condition: ([Record]) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(records.value), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    public func close() async {
        await consumer.close()
        _ = await task.value
    }
}
