import BroadcastModel
import Foundation
import Kafka
import Logging
import Synchronization

/// Follows the status, dead-letter and campaign-control topics into one `StatusProjectionStore`:
/// the long-running half of `broadcast console`. Each topic has its own consumer (a throw-away
/// group that never commits); the store's per-topic offsets make restarts resume without
/// double counting. A topic that does not exist yet (control and DLQ are created on first use)
/// is retried in the background until it does.
///
/// `broadcast.devices` (each device's safety state, merged per device) and `broadcast.inbound` (what
/// contacts wrote) are followed too, when they exist; a topic joins by adding a `follow(topic:apply:)`
/// call with its own table: the store is the one projection every view reads.
public final class ProjectionFollower: Sendable {
    public let store: StatusProjectionStore
    public let topics: TopicNames
    private let client: KafkaClientOptions
    private let logger: Logger
    private let tasks = Mutex<[Task<Void, Never>]>([])
    private let streams = Mutex<[TopicStream]>([])
    private let tally = Mutex(Counters())
    private let retryEvery: Duration

    public struct Counters: Sendable, Equatable, Codable {
        /// Status records stored (applied, skipped or superseded) since start.
        public var statusRecords = 0
        public var deadLetters = 0
        public var controlRecords = 0
        public var deviceStateRecords = 0
        public var inboundRecords = 0
        /// Topics read to the end they had at start.
        public var caughtUp: Set<String> = []
    }

    public init(
        store: StatusProjectionStore, client: KafkaClientOptions, topics: TopicNames, retryEvery: Duration = .seconds(5),
        logger: Logger = Logger(label: "broadcast.console.projection")
    ) {
        self.store = store
        self.client = client
        self.topics = topics
        self.retryEvery = retryEvery
        self.logger = logger
    }

    public var counters: Counters { tally.withLock { $0 } }

    /// Starts following every topic in the background; returns at once.
    public func start() async throws(OperationsError) {
        try await store.prepareConsoleTables()
        let store = store
        let logger = logger
        let status = follow(topic: topics.status) { stream in
            let projector = StatusProjector(store: store, stream: stream, logger: logger)
            try await projector.catchUp(timeout: .seconds(3600)) { [self] records in self.count(\.statusRecords, records.count) }
            self.markCaughtUp(stream.topic)
            try await projector.follow { [self] records in self.count(\.statusRecords, records.count) }
        }
        let deadLetters = follow(topic: topics.deadLetters) { stream in
            try await self.readThenFollow(stream) { batch in
                let records = batch.map(DeadLetterRecord.init)
                try await store.applyDeadLetters(records, topic: stream.topic)
                self.count(\.deadLetters, records.count)
            }
        }
        let control = follow(topic: topics.control) { stream in
            try await self.readThenFollow(stream) { batch in
                var items: [(partition: Int32, offset: Int64, campaignId: String, record: CampaignControlRecord?)] = []
                for message in batch {
                    guard let key = message.keyString else { continue }
                    let record = message.valueBytes.flatMap { try? CampaignControlRecord.decode($0) }
                    // A value that does not decode is neither a state nor a tombstone: skip it.
                    if message.value != nil && record == nil { continue }
                    items.append((message.partition, message.offset, key, record))
                }
                try await store.applyControls(items, topic: stream.topic)
                self.count(\.controlRecords, items.count)
            }
        }
        let devices = follow(topic: topics.devices) { stream in
            try await self.readThenFollow(stream) { batch in
                let items = batch.compactMap { message -> DeviceStateItem? in
                    guard let key = message.keyString else { return nil }
                    return DeviceStateItem(partition: message.partition, offset: message.offset, deviceId: key, value: message.valueBytes)
                }
                try await store.applyDeviceStates(items, topic: stream.topic)
                self.count(\.deviceStateRecords, items.count)
            }
        }
        let inbound = follow(topic: topics.inbound) { stream in
            try await self.readThenFollow(stream) { batch in
                // A record that does not decode is skipped here (the receiver only writes valid ones).
                let items = batch.map { message in
                    (partition: message.partition, offset: message.offset,
                     message: message.valueBytes.flatMap { try? InboundMessage.decodeValidated(from: $0) })
                }
                try await store.applyInbound(items, topic: stream.topic)
                self.count(\.inboundRecords, items.count)
            }
        }
        tasks.withLock { $0 = [status, deadLetters, control, devices, inbound] }
    }

    /// True once every topic was read to the end it had when following began.
    public var isCaughtUp: Bool {
        let caught = counters.caughtUp
        return [topics.status, topics.deadLetters, topics.control].allSatisfy(caught.contains)
    }

    /// Stops every consumer and waits for the tasks to end.
    public func stop() async {
        let running = tasks.withLock { tasks in
            defer { tasks = [] }
            return tasks
        }
        for task in running { task.cancel() }
        for stream in streams.withLock({ $0 }) { await stream.close() }
        for task in running { await task.value }
    }

    private func readThenFollow(_ stream: TopicStream, apply: @escaping (ConsumerBatch) async throws -> Void) async throws {
        let stored = try await store.storedOffsets(topic: stream.topic)
        try await stream.readToEnd(startOffsets: stored, timeout: .seconds(3600), onBatch: apply)
        markCaughtUp(stream.topic)
        try await stream.follow(onBatch: apply)
    }

    /// Opens a stream on `topic` (retrying while the topic is missing or the cluster unreachable)
    /// and runs `body` on it; a failure closes the stream and starts over after `retryEvery`.
    private func follow(topic: String, body: @escaping @Sendable (TopicStream) async throws -> Void) -> Task<Void, Never> {
        let client = client
        let logger = logger
        let retryEvery = retryEvery
        return Task {
            var warned = false
            while !Task.isCancelled {
                do {
                    let stream = try await TopicStream(client: client, topic: topic, logger: logger)
                    self.streams.withLock { $0.append(stream) }
                    if Task.isCancelled {
                        await stream.close()
                        return
                    }
                    try await body(stream)
                    await stream.close()
                    if Task.isCancelled { return }
                } catch {
                    if Task.isCancelled { return }
                    if !warned {
                        logger.warning("console projection not following \(topic) yet; retrying", metadata: ["error": "\(error)"])
                        warned = true
                    }
                }
                try? await Task.sleep(for: retryEvery)
            }
        }
    }

    private func count(_ path: WritableKeyPath<Counters, Int>, _ amount: Int) {
        tally.withLock { $0[keyPath: path] += amount }
    }

    private func markCaughtUp(_ topic: String) {
        tally.withLock { _ = $0.caughtUp.insert(topic) }
        logger.info("console projection caught up", metadata: ["topic": "\(topic)"])
    }
}
