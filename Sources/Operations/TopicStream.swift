import Foundation
import Kafka
import Logging
import Synchronization

/// A consumer of one topic for ops tools: reads to the end the topic had when the read began
/// (`readToEnd`, for one-shot commands), then optionally follows it (`follow`, for live views).
///
/// Ops readers use a group of their own and, unless they say otherwise, never commit: reading the
/// status topic must not move anybody's offsets.
public final class TopicStream: Sendable {
    public let topic: String
    public let partitions: [Int32]
    private let consumer: KafkaConsumer
    private let subscribed = Mutex(false)
    private let closer = Mutex<Task<Void, Never>?>(nil)
    private let logger: Logger

    /// - Parameters:
    ///   - groupId: nil for a unique throw-away group (`broadcast-ops-<uuid>`).
    public init(
        client: KafkaClientOptions, topic: String, groupId: String? = nil, maxBatchSize: Int = 2_000,
        logger: Logger = Logger(label: "broadcast.ops")
    ) async throws(OperationsError) {
        self.topic = topic
        self.logger = logger
        partitions = try await Self.partitions(of: topic, client: client, logger: logger)
        var configuration = ConsumerConfiguration(client: client, groupId: groupId ?? "broadcast-ops-\(UUID().uuidString.lowercased())")
        // One member per group: the eager strategy is simplest and has no first-assignment caveat.
        configuration.assignmentStrategy = .range
        configuration.startFromEarliest = true
        configuration.maxBatchSize = maxBatchSize
        do {
            consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        } catch {
            throw .kafka(error)
        }
    }

    /// The topic's partition ids, from cluster metadata.
    public static func partitions(of topic: String, client: KafkaClientOptions, logger: Logger) async throws(OperationsError) -> [Int32] {
        do {
            let admin = try KafkaAdmin(options: client, logger: logger)
            defer { Task { await admin.close() } }
            guard let description = try await admin.describeTopic(topic), !description.partitions.isEmpty else {
                throw OperationsError.topicNotFound(topic)
            }
            return description.partitions.map(\.id)
        } catch let error as OperationsError {
            throw error
        } catch let error as KafkaError {
            throw .kafka(error)
        } catch {
            throw .invalidArgument("\(error)")
        }
    }

    public var kafkaConsumer: KafkaConsumer { consumer }

    /// Offsets this stream's group committed (`KafkaOffset.invalid` where none).
    public func committed() async throws(OperationsError) -> [Int32: TopicPartitionOffset] {
        do {
            let offsets = try await consumer.committed(partitions.map { TopicPartition(topic: topic, partition: $0) })
            return Dictionary(offsets.map { ($0.partition, $0) }, uniquingKeysWith: { $1 })
        } catch {
            throw .kafka(error)
        }
    }

    public func commit(_ offsets: [TopicPartitionOffset]) async throws(OperationsError) {
        do { try await consumer.commit(offsets) } catch { throw .kafka(error) }
    }

    /// The high watermark of every partition now: the end a `readToEnd` stops at.
    public func highWatermarks() async throws(OperationsError) -> [Int32: Watermarks] {
        var result: [Int32: Watermarks] = [:]
        for partition in partitions {
            do {
                result[partition] = try await consumer.queryWatermarks(TopicPartition(topic: topic, partition: partition))
            } catch {
                throw .kafka(error)
            }
        }
        return result
    }

    private func subscribeOnce() throws(OperationsError) {
        let first = subscribed.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        do { try consumer.subscribe(topics: [topic]) } catch { throw .kafka(error) }
    }

    /// Hands over batches until every partition reached the high watermark it had when this call
    /// began. `startOffsets` (next offset per partition, e.g. the group's committed ones) lets a
    /// partition that is already read through count as done without a message.
    public func readToEnd(
        startOffsets: [Int32: Int64] = [:], timeout: Duration = .seconds(120),
        onBatch: (ConsumerBatch) async throws -> Void
    ) async throws {
        // Subscribe even when there is nothing to read: a consumer that never subscribed hangs in
        // librdkafka's destroy after a watermark query (seen with 2.0.2), while a subscribed one
        // closes cleanly on its poll thread.
        try subscribeOnce()
        let marks = try await highWatermarks()
        var remaining: [Int32: Int64] = [:]
        for (partition, mark) in marks {
            let start = max(startOffsets[partition] ?? mark.low, mark.low)
            if start < mark.high { remaining[partition] = mark.high }
        }
        logger.debug("reading to the end", metadata: ["topic": "\(topic)", "partitions": "\(remaining)"])
        guard !remaining.isEmpty else { return }

        // Only a timeout closes the consumer early: the events sequence cannot be woken otherwise.
        let timedOut = Atomic<Bool>(false)
        let consumer = consumer
        let watchdog = Task { [self] in
            try await Task.sleep(for: timeout)
            timedOut.store(true, ordering: .releasing)
            await close()
        }
        defer { watchdog.cancel() }
        for await event in consumer.events {
            switch event {
            case .messages(let batch):
                try await onBatch(batch)
                for message in batch where message.topic == topic {
                    if let target = remaining[message.partition], message.offset + 1 >= target {
                        remaining[message.partition] = nil
                    }
                }
            case .error(let error):
                logger.warning("consumer error while reading \(topic); librdkafka retries", metadata: ["error": "\(error)"])
            case .assigned, .revoked:
                break
            }
            if remaining.isEmpty { break }
        }
        if timedOut.load(ordering: .acquiring) || !remaining.isEmpty {
            throw OperationsError.catchUpTimedOut(topic: topic, remaining: remaining)
        }
    }

    /// Hands over batches as they come until the task is cancelled (then the consumer is closed).
    public func follow(onBatch: (ConsumerBatch) async throws -> Void) async throws {
        try subscribeOnce()
        let consumer = consumer
        try await withTaskCancellationHandler {
            for await event in consumer.events {
                if case .messages(let batch) = event { try await onBatch(batch) }
                if Task.isCancelled { break }
            }
        } onCancel: {
            _ = closing()
        }
    }

    /// Leaves the group; safe to call more than once and from several tasks. A stream that never
    /// read subscribes first (see `readToEnd`).
    public func close() async {
        await closing().value
    }

    /// One close for everybody: two concurrent `KafkaConsumer.close` calls would race in the binding.
    private func closing() -> Task<Void, Never> {
        closer.withLock { closer in
            if let closer { return closer }
            try? subscribeOnce()
            let consumer = consumer
            let task = Task { _ = await consumer.close() }
            closer = task
            return task
        }
    }
}
