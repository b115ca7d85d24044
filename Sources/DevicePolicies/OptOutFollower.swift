import Foundation
import Kafka
import Logging
import Synchronization

/// Keeps an `OptOutStore` up to date from the opt-out topic.
///
/// Every worker process reads the whole topic from the beginning under a group id of its own and
/// never commits: each needs the full list, not a share of it. Workers do not create topics; while
/// the topic is missing the consumer keeps looking (metadata refresh) and only the first such error
/// is logged as a warning.
public final class OptOutFollower: Sendable {
    private struct Progress {
        /// High watermark per partition when it was assigned: reading up to it means caught up.
        var targets: [Int32: Int64] = [:]
        /// Next offset to read per partition.
        var positions: [Int32: Int64] = [:]
        var assigned = false
        var warnedMissingTopic = false
        var ignoredKeys = 0
        var announcedCaughtUp = false

        /// True the first time it is asked after catching up (one log line, not one per batch).
        mutating func newlyCaughtUp() -> Bool {
            guard caughtUp, !announcedCaughtUp else { return false }
            announcedCaughtUp = true
            return true
        }

        var caughtUp: Bool {
            assigned && targets.allSatisfy { partition, high in (positions[partition] ?? 0) >= high }
        }
    }

    public let topic: String
    public let store: OptOutStore
    private let consumer: KafkaConsumer
    private let logger: Logger
    private let progress = Mutex(Progress())
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// - Parameters:
    ///   - client: connection settings; the group id is made unique per follower.
    ///   - groupPrefix: readable start of that group id (e.g. the worker's name).
    public init(
        client: KafkaClientOptions, topic: String, store: OptOutStore, groupPrefix: String = "broadcast-optouts",
        logger: Logger = Logger(label: "broadcast.optouts")
    ) throws(KafkaError) {
        var configuration = ConsumerConfiguration(client: client, groupId: "\(groupPrefix)-\(UUID().uuidString.prefix(8))")
        configuration.startFromEarliest = true
        // Look for a missing (or newly created) topic every few seconds instead of every 5 minutes.
        var properties = configuration.client.properties
        if properties["topic.metadata.refresh.interval.ms"] == nil { properties["topic.metadata.refresh.interval.ms"] = "5000" }
        configuration.client.properties = properties
        self.topic = topic
        self.store = store
        self.logger = logger
        consumer = try KafkaConsumer(configuration: configuration, logger: logger)
    }

    /// Subscribes and starts applying records in the background.
    public func start() throws(KafkaError) {
        try consumer.subscribe(topics: [topic])
        let work = Task { [self] in
            for await event in consumer.events {
                await handle(event)
            }
        }
        task.withLock { $0 = work }
    }

    /// True once every partition was read up to where it ended when assigned.
    public var isCaughtUp: Bool { progress.withLock { $0.caughtUp } }

    /// Waits until caught up or `timeout` passes; returns whether it caught up. A worker waits here
    /// before sending so that a restart does not message someone who opted out a minute ago.
    public func waitUntilCaughtUp(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !isCaughtUp {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return true
    }

    /// Leaves the group (nothing is committed) and stops.
    public func close() async {
        await consumer.close()
        let work = task.withLock { $0 }
        await work?.value
    }

    private func handle(_ event: ConsumerEvent) async {
        switch event {
        case .messages(let batch):
            var ignored = 0
            var positions: [Int32: Int64] = [:]
            for message in batch {
                positions[message.partition] = max(positions[message.partition] ?? 0, message.offset + 1)
                switch OptOutRecord.change(key: message.keyString, value: message.valueBytes) {
                case .add(let phone): if !store.add(phone) { ignored += 1 }
                case .remove(let phone): store.remove(phone)
                case nil: ignored += 1
                }
            }
            let (firstIgnored, caughtUp) = progress.withLock { progress in
                progress.positions.merge(positions, uniquingKeysWith: max)
                defer { progress.ignoredKeys += ignored }
                return (ignored > 0 && progress.ignoredKeys == 0, progress.newlyCaughtUp())
            }
            if caughtUp { logCaughtUp() }
            if firstIgnored {
                logger.warning("opt-out records whose key is not a phone number ignored (further ones are counted silently)", metadata: ["topic": "\(topic)"])
            }
        case .assigned(let partitions, _):
            await recordTargets(partitions)
        case .revoked:
            break
        case .error(let error):
            // Before the first assignment an error usually means the topic is missing: say so once.
            // Later ones are transient and already logged by the Kafka binding.
            let warn = progress.withLock { progress in
                defer { progress.warnedMissingTopic = true }
                return !progress.assigned && !progress.warnedMissingTopic
            }
            if warn {
                logger.warning("opt-out topic not readable yet; still trying (phones opted out there are unknown until then)", metadata: [
                    "topic": "\(topic)", "error": "\(error)",
                ])
            } else {
                logger.debug("opt-out consumer error", metadata: ["error": "\(error)"])
            }
        }
    }

    private func recordTargets(_ partitions: [TopicPartition]) async {
        var targets: [Int32: Int64] = [:]
        var starts: [Int32: Int64] = [:]
        for partition in partitions {
            do {
                let marks = try await consumer.queryWatermarks(partition)
                targets[partition.partition] = marks.high
                starts[partition.partition] = marks.low
            } catch {
                // Unknown end: treat as caught up rather than hold every send back; records still apply.
                logger.warning("could not read the opt-out topic's end", metadata: ["partition": "\(partition)", "error": "\(error)"])
            }
        }
        let caughtUp = progress.withLock { progress in
            progress.targets.merge(targets) { _, new in new }
            for (partition, low) in starts where (progress.positions[partition] ?? 0) < low {
                progress.positions[partition] = low
            }
            progress.assigned = true
            return progress.newlyCaughtUp()
        }
        if caughtUp { logCaughtUp() }
    }

    private func logCaughtUp() {
        logger.info("opt-out topic read to its end", metadata: ["topic": "\(topic)", "optedOut": "\(store.count)"])
    }
}
