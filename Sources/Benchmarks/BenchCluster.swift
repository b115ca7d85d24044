import BroadcastModel
import Foundation
import Kafka
import Logging
import Senders
import Synchronization
import WorkerRuntime

/// An embedded cluster with the broadcast topics, and the publishing and measuring the worker
/// scenarios share.
final class BenchCluster: Sendable {
    let cluster: EmbeddedKafkaCluster
    let topics: TopicNames
    let producer: KafkaProducer
    private let createdAt = Mutex<[String: Date]>([:])

    init(partitions: Int, extraTopics: [String] = [], logger: Logger) throws {
        cluster = try EmbeddedKafkaCluster(brokers: 3, logger: logger)
        topics = TopicNames(prefix: "bench.")
        for topic in topics.core + ["bench.relay"] + extraTopics { try cluster.createTopic(topic, partitions: partitions) }
        producer = try KafkaProducer(configuration: ProducerConfiguration(bootstrapServers: cluster.bootstrapServers), logger: logger)
    }

    func close() async { await producer.close() }

    func message(_ index: Int, devices: Int, delay: (Double, Double), at now: Date, prefix: String = "dev-") -> BroadcastMessage {
        BroadcastMessage(
            id: "m-\(index)", userId: "bench", deviceId: "\(prefix)\(index % devices)", source: .api,
            recipient: .init(phone: "+6011\(String(format: "%08d", index % 100_000_000))", name: "Bench \(index)"),
            content: .init(type: .text, text: "Benchmark message number \(index): a typical campaign text of about this length."),
            delay: .init(minSeconds: delay.0, maxSeconds: delay.1),
            scheduledAt: now.addingTimeInterval(-1), createdAt: now
        )
    }

    private func record(_ message: BroadcastMessage) -> ProducerRecord {
        ProducerRecord(topic: topics.messages, key: Array(message.deviceId.utf8), value: message.encoded())
    }

    /// Publishes these messages, keyed by device.
    func publish(_ messages: [BroadcastMessage]) async throws {
        for start in stride(from: 0, to: messages.count, by: 20_000) {
            let deliveries = try await producer.enqueue(messages[start..<min(messages.count, start + 20_000)].map(record))
            try check(await deliveries.wait())
        }
    }

    /// Publishes `count` messages round-robin over `devices`, interleaved as a campaign publishes them.
    func publish(count: Int, devices: Int, delay: (Int) -> (Double, Double)) async throws {
        let now = Date()
        var pending: [PendingDeliveries] = []
        var index = 0
        while index < count {
            let end = min(count, index + 20_000)
            pending.append(try await producer.enqueue((index..<end).map { record(message($0, devices: devices, delay: delay($0), at: now)) }))
            index = end
            if pending.count > 8 { try check(await pending.removeFirst().wait()) }
        }
        for deliveries in pending { try check(await deliveries.wait()) }
    }

    /// Publishes at a steady rate, stamping each message's creation time for latency.
    func publishPaced(count: Int, devices: Int, perSecond: Int) async throws {
        let start = ContinuousClock.now
        let tick = 10  // messages per 10 ms at 1,000/s
        let perTick = max(1, perSecond * tick / 1_000)
        var pending: [PendingDeliveries] = []
        var index = 0
        while index < count {
            let end = min(count, index + perTick)
            let now = Date()
            let batch = (index..<end).map { message($0, devices: devices, delay: (0, 0), at: now) }
            createdAt.withLock { map in for message in batch { map[message.id] = now } }
            pending.append(try await producer.enqueue(batch.map(record)))
            index = end
            let due = start + .milliseconds(tick * (index / perTick))
            if due > .now { try await Task.sleep(until: due) }
        }
        for deliveries in pending { try check(await deliveries.wait()) }
    }

    func creationTime(of id: String) -> Date? { createdAt.withLock { $0[id] } }

    private func check(_ results: [DeliveryResult]) throws {
        for result in results { _ = try result.get() }
    }

    /// One worker run: sends per second from its first send, and the CPU time the whole process
    /// (worker, clients and the embedded brokers) spent per message meanwhile. CPU time is what a
    /// busy machine distorts least: a neighbour that steals cycles slows a run, but does not add to
    /// its CPU seconds.
    struct WorkerRun {
        var perSecond: Double
        var cpuMicrosecondsPerMessage: Double
    }

    /// Runs one worker, configured as `broadcast worker` configures it, until it sent `count`
    /// messages. `onReady` runs once the worker owns its partitions and fetches.
    func runWorker(
        until count: Int, sender: SimulatedSender, policy: any SendPolicy = PassThroughPolicy(),
        deviceState: (any DeviceStateJournal)? = nil, onReady: @escaping @Sendable () -> Void = {},
        onFirstSend: @escaping @Sendable () -> Void = {}, logger: Logger
    ) async throws -> WorkerRun {
        var configuration = WorkerConfiguration(topics: topics, workerName: "bench-worker")
        configuration.paceFirstSendAfterTakeover = false
        let consumer = WorkerConfiguration.consumer(
            ConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupId: "bench-workers-\(UUID().uuidString)"))
        let worker = try DeviceWorkerService(
            configuration: configuration, consumer: consumer, producer: producer, senders: SingleSenderDirectory(sender),
            policy: policy, logger: logger, deviceState: deviceState
        )
        let task = Task { try await worker.run() }
        var firstSend: ContinuousClock.Instant?
        var cpuAtFirstSend = 0.0
        let deadline = ContinuousClock.now + .seconds(600)
        var ready = false
        while worker.counters.snapshot.sent < count {
            if !ready, worker.isReady {
                ready = true
                onReady()
            }
            guard ContinuousClock.now < deadline else {
                worker.shutdown()
                try await task.value
                throw BenchmarkError.incomplete("the worker sent \(worker.counters.snapshot.sent) of \(count) in 10 minutes")
            }
            try await Task.sleep(for: .milliseconds(5))
            if firstSend == nil, worker.counters.snapshot.sent > 0 {
                firstSend = .now
                cpuAtFirstSend = processCPUSeconds()
                onFirstSend()
            }
        }
        let elapsed = firstSend.map { (ContinuousClock.now - $0).seconds } ?? 0
        let cpu = processCPUSeconds() - cpuAtFirstSend
        worker.shutdown()
        try await task.value
        return WorkerRun(
            perSecond: elapsed > 0 ? Double(count - 1) / elapsed : 0, cpuMicrosecondsPerMessage: cpu / Double(max(1, count - 1)) * 1e6)
    }

    /// The baseline: consume a batch, produce one record per message, commit; records per second.
    func relay(count: Int, logger: Logger) async throws -> Double {
        var configuration = ConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupId: "bench-relay-\(UUID().uuidString)")
        configuration.assignmentStrategy = .roundRobin
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        try consumer.subscribe(topics: [topics.messages])
        var relayed = 0
        var clock: ContinuousClock.Instant?
        for await event in consumer.events {
            guard case .messages(let batch) = event else { continue }
            if clock == nil { clock = .now }
            var records: [ProducerRecord] = []
            records.reserveCapacity(batch.count)
            var next: [TopicPartition: Int64] = [:]
            for message in batch {
                records.append(ProducerRecord(topic: "bench.relay", key: message.keyBytes, value: message.valueBytes))
                next[message.topicPartition] = message.offset + 1
            }
            for result in try await producer.send(records) { _ = try result.get() }
            try consumer.commitAsync(next.map { TopicPartitionOffset(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value) })
            relayed += batch.count
            if relayed >= count { break }
            if let clock, ContinuousClock.now - clock > .seconds(600) { throw BenchmarkError.incomplete("relayed \(relayed) of \(count)") }
        }
        let elapsed = clock.map { (ContinuousClock.now - $0).seconds } ?? 0
        await consumer.close()
        return elapsed > 0 ? Double(relayed) / elapsed : 0
    }

    /// Follows the status topic, keeping when each message was sent.
    func statusTimes() throws -> StatusTimes {
        try StatusTimes(bench: self, topic: topics.status) { record in
            guard let value = record.value, let event = try? StatusEvent.decode(from: value), event.status == .sent else { return nil }
            return (event.messageId, event.at)
        }
    }

    /// Follows the messages topic with a plain consumer, keeping when each message arrived: the
    /// latency the cluster and client give before any worker logic.
    func arrivalTimes(fetchMaxWait: Int = WorkerConfiguration.recommendedFetchMaxWaitMilliseconds) throws -> StatusTimes {
        try StatusTimes(bench: self, topic: topics.messages, fetchMaxWait: fetchMaxWait) { record in
            guard let value = record.value, let message = try? BroadcastMessage.decode(from: value) else { return nil }
            return (message.id, Date())
        }
    }
}

/// Times read back from a topic: per message id, the time `extract` gives for its record.
final class StatusTimes: Sendable {
    private let consumer: KafkaConsumer
    private let task: Task<Void, Never>
    private let bench: BenchCluster

    init(
        bench: BenchCluster, topic: String, fetchMaxWait: Int? = nil,
        extract: @escaping @Sendable (ConsumerMessage) -> (String, Date)?
    ) throws {
        self.bench = bench
        var configuration = ConsumerConfiguration(bootstrapServers: bench.cluster.bootstrapServers, groupId: "bench-follow-\(UUID().uuidString)")
        configuration.assignmentStrategy = .roundRobin
        if let fetchMaxWait { configuration.fetchMaxWaitMilliseconds = fetchMaxWait }
        consumer = try KafkaConsumer(configuration: configuration)
        try consumer.subscribe(topics: [topic])
        let box = SentBox()
        sentBox = box
        let consumer = consumer
        task = Task {
            for await event in consumer.events {
                guard case .messages(let batch) = event else { continue }
                box.append(batch.compactMap(extract))
            }
        }
    }

    private let sentBox: SentBox

    var sentCount: Int { sentBox.count }
    var sentTimes: [Double] { sentBox.all.map { $0.at.timeIntervalSinceReferenceDate } }
    var sentLatencies: [Double] {
        sentBox.all.compactMap { send in bench.creationTime(of: send.id).map { send.at.timeIntervalSince($0) } }
    }

    func waitFor(sent count: Int, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while sentCount < count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
    }

    func close() async {
        await consumer.close()
        _ = await task.value
    }
}

final class SentBox: Sendable {
    private let items = Mutex<[(id: String, at: Date)]>([])
    func append(_ sends: [(String, Date)]) { items.withLock { $0 += sends.map { (id: $0.0, at: $0.1) } } }
    var count: Int { items.withLock { $0.count } }
    var all: [(id: String, at: Date)] { items.withLock { $0 } }
}

/// User and system CPU seconds of this process so far.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let seconds = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec
    let micros = usage.ru_utime.tv_usec + usage.ru_stime.tv_usec
    return Double(seconds) + Double(micros) / 1e6
}
