import BroadcastModel
import Foundation
import Kafka
import Senders
import Synchronization
import Testing
import WorkerRuntime

/// Shared mutable state for tasks of a test.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
    var value: Value { mutex.withLock { $0 } }
}

/// An embedded cluster with the three broadcast topics under a unique prefix.
final class WorkerHarness: Sendable {
    let cluster: EmbeddedKafkaCluster
    let topics: TopicNames
    let producer: KafkaProducer

    init(partitions: Int) throws {
        cluster = try EmbeddedKafkaCluster(brokers: 3)
        topics = TopicNames(prefix: "t\(UUID().uuidString.prefix(6)).")
        for topic in topics.all { try cluster.createTopic(topic, partitions: partitions) }
        var configuration = ProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
        configuration.client.properties["reconnect.backoff.max.ms"] = "1000"
        producer = try KafkaProducer(configuration: configuration)
    }

    deinit { cluster.shutDown() }

    var bootstrap: String { cluster.bootstrapServers }

    /// Publishes messages keyed by device, as the publishers do.
    func publish(_ messages: [BroadcastMessage]) async throws {
        let results = try await producer.send(messages.map {
            ProducerRecord(topic: topics.messages, key: Array($0.deviceId.utf8), value: $0.encoded(),
                           headers: [KafkaHeader(name: "schema", string: RecordSchema.message)])
        })
        for result in results { _ = try result.get() }
    }

    func publishRaw(key: [UInt8]?, value: [UInt8]?) async throws {
        _ = try await producer.send(ProducerRecord(topic: topics.messages, key: key, value: value))
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

    /// Starts an in-process worker; stop it with `shutdown()` and await the task.
    func startWorker(
        name: String, group: String = "workers", sender: any MessageSender,
        configure: (inout WorkerConfiguration) -> Void = { _ in }
    ) throws -> (worker: DeviceWorkerService, task: Task<Void, any Error>) {
        var configuration = WorkerConfiguration(topics: topics, workerName: name)
        configuration.commitInterval = .milliseconds(100)
        configure(&configuration)
        let worker = try DeviceWorkerService(
            configuration: configuration, consumer: workerConsumerConfiguration(group: group),
            producer: producer, senders: SingleSenderDirectory(sender)
        )
        return (worker, Task { try await worker.run() })
    }

    /// Reads a topic from the beginning in the background.
    func follow(_ topic: String) throws -> TopicFollower {
        try TopicFollower(configuration: consumerConfiguration(group: "follower-\(UUID())"), topic: topic)
    }
}

/// Collects every record of a topic as it arrives.
final class TopicFollower: Sendable {
    struct Record: Sendable {
        var key: String?
        var value: [UInt8]
        var headers: [KafkaHeader]
        var partition: Int32
        var offset: Int64
    }

    let records = Locked<[Record]>([])
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
                let copied = batch.map {
                    Record(key: $0.keyString, value: $0.valueBytes ?? [], headers: $0.headers, partition: $0.partition, offset: $0.offset)
                }
                records.withLock { $0 += copied }
            }
        }
    }

    var statusEvents: [StatusEvent] {
        records.value.compactMap { try? StatusEvent.decode(from: $0.value) }
    }

    /// Waits until `condition` holds for what was read, or the timeout passes.
    func wait(timeout: Duration = .seconds(60), until condition: ([Record]) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(records.value), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    func close() async {
        await consumer.close()
        _ = await task.value
    }
}

func testMessage(
    id: String, device: String, minDelay: Double = 0, maxDelay: Double = 0, text: String? = nil,
    scheduledAt: Date = Date(timeIntervalSinceNow: -1), expiresAt: Date? = nil, phone: String = "+60123456789"
) -> BroadcastMessage {
    BroadcastMessage(
        id: id, userId: "user-1", deviceId: device, source: .campaign, campaignId: "cmp-test",
        recipient: .init(phone: phone, name: "Aisha"),
        content: .init(type: .text, text: text ?? "Hello \(id)"),
        delay: .init(minSeconds: minDelay, maxSeconds: maxDelay),
        scheduledAt: scheduledAt, expiresAt: expiresAt, createdAt: Date()
    )
}

extension Array where Element == StatusEvent {
    /// Latest final event per message id.
    var finals: [String: StatusEvent] {
        var result: [String: StatusEvent] = [:]
        for event in self where event.status.isFinal { result[event.messageId] = event }
        return result
    }

    func sends(of status: MessageStatus = .sent) -> [StatusEvent] { filter { $0.status == status } }

    /// Sends per device in the order they happened. A status event written twice (the embedded
    /// cluster can store a retried idempotent batch twice) is one send: a real second send has
    /// its own provider id.
    var sentByDevice: [String: [StatusEvent]] {
        var seen: Set<String> = []
        let unique = sends().filter { seen.insert("\($0.messageId)|\($0.providerMessageId ?? "")|\($0.at.timeIntervalSince1970)").inserted }
        return Dictionary(grouping: unique, by: \.deviceId).mapValues { $0.sorted { $0.at < $1.at } }
    }
}

/// Checks the invariants every run must keep: each device's messages first sent in offset order,
/// and every gap between two sends of a device (duplicates included: they reached a phone too) at
/// least `minGap`.
func expectOrderAndPacing(_ events: [StatusEvent], minGap: Double, sourceLocation: SourceLocation = #_sourceLocation) {
    for (device, sends) in events.sentByDevice {
        var seen: Set<String> = []
        let firstSends = sends.filter { seen.insert($0.messageId).inserted }
        let offsets = firstSends.compactMap(\.offset)
        #expect(offsets == offsets.sorted(), "device \(device) out of order: \(offsets)", sourceLocation: sourceLocation)
        for (previous, next) in zip(sends, sends.dropFirst()) {
            // `at` travels with millisecond precision.
            let gap = next.at.timeIntervalSince(previous.at)
            #expect(gap >= minGap - 0.002, "device \(device) gap \(gap) < \(minGap)", sourceLocation: sourceLocation)
        }
    }
}

/// Duplicate sends per device (sends beyond the first of each message).
func duplicatesPerDevice(_ events: [StatusEvent]) -> [String: Int] {
    var result: [String: Int] = [:]
    for (device, sends) in events.sentByDevice {
        let extra = sends.count - Set(sends.map(\.messageId)).count
        if extra > 0 { result[device] = extra }
    }
    return result
}
