import AsyncHTTPClient
import BroadcastModel
import Console
import Foundation
import Kafka
import Logging
import NIOCore
import Operations
import Synchronization

/// `broadcast bench console`: how fast the console's follower projects status events into the
/// SQLite projection while 50 readers poll the campaign page, and how long the page takes.
///
/// A backlog of status events (each message queued, then sent) is produced to an embedded
/// cluster first; then the console starts and the readers begin. Projection speed is the backlog
/// divided by the time the follower took to store all of it; page latencies are those of the
/// readers' requests during that time (the campaign page's data fragment and its JSON).
public struct ConsoleBenchmark: Sendable {
    public var statuses = 300_000
    public var readers = 50
    public var campaigns = 10
    public var devices = 500
    public var partitions = 24
    public var viewTTL: Duration = .milliseconds(500)
    public var storePath: String?

    public init() {}

    public struct Result: Codable, Sendable {
        public var statuses: Int
        public var readers: Int
        public var projectSeconds: Double
        /// The backlog over the time from the console's start (group join and first fetch included).
        public var statusesPerSecond: Double
        /// From the first stored status to the last.
        public var statusesPerSecondOnceStoring: Double
        public var requests: Int
        public var failedRequests: Int
        public var pageP50Milliseconds: Double
        public var pageP99Milliseconds: Double
        public var pageMaxMilliseconds: Double
        public var viewTTLMilliseconds: Int
        public var goalStatusesPerSecond: Double
        public var goalP99Milliseconds: Double
        public var keepsUp: Bool
        public var p99WithinGoal: Bool
        public var note: String
    }

    public func run(logger: Logger) async throws -> Result {
        let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: logger)
        defer { cluster.shutDown() }
        let topics = TopicNames(prefix: "bench\(UUID().uuidString.prefix(6)).")
        try cluster.createTopic(topics.status, partitions: partitions)
        try cluster.createTopic(topics.deadLetters, partitions: 3)
        try cluster.createTopic(topics.control, partitions: 3)
        let client = KafkaClientOptions(bootstrapServers: cluster.bootstrapServers, clientId: "bench-console")
        try await produceBacklog(client: client, topics: topics)

        let token = ConsoleTokens.random()
        let path = storePath ?? FileManager.default.temporaryDirectory.appendingPathComponent("bench-console-\(UUID()).sqlite").path
        defer { if storePath == nil { try? FileManager.default.removeItem(atPath: path) } }
        var configuration = ConsoleConfiguration(
            client: client, topics: topics, storePath: path, tokens: try ConsoleTokens([ConsoleToken(name: "bench", role: .viewer, token: token)]))
        configuration.port = 0
        configuration.viewTTL = viewTTL
        let console = try ConsoleService(configuration: configuration, logger: logger)

        let tally = Tally()
        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = readers + 4
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)

        let started = ContinuousClock.now
        try await console.start()
        let base = console.baseURL
        let paths = ["/ui/campaigns/bench-campaign-0", "/api/v1/campaigns/bench-campaign-0"]
        let readerTasks = (0..<readers).map { index in
            Task {
                var count = 0
                while !tally.done.load(ordering: .relaxed) {
                    var request = HTTPClientRequest(url: base + paths[(index + count) % paths.count])
                    request.headers.add(name: "Authorization", value: "Bearer \(token)")
                    let begin = ContinuousClock.now
                    do {
                        let response = try await http.execute(request, timeout: .seconds(30))
                        _ = try await response.body.collect(upTo: 16 * 1024 * 1024)
                        // 404 until the campaign's first events are stored: not a page yet.
                        if response.status == .ok {
                            let elapsed = (ContinuousClock.now - begin).milliseconds
                            tally.latencies.withLock { $0.append(elapsed) }
                        } else if response.status != .notFound {
                            tally.failures.add(1, ordering: .relaxed)
                        }
                    } catch {
                        tally.failures.add(1, ordering: .relaxed)
                    }
                    count += 1
                }
            }
        }
        var firstStored: (at: ContinuousClock.Instant, count: Int)?
        while console.follower.counters.statusRecords < statuses {
            try await Task.sleep(for: .milliseconds(10))
            let count = console.follower.counters.statusRecords
            if firstStored == nil, count > 0 { firstStored = (.now, count) }
            if ContinuousClock.now - started > .seconds(600) { break }
        }
        let finished = ContinuousClock.now
        let projectSeconds = (finished - started).seconds
        tally.done.store(true, ordering: .relaxed)
        for task in readerTasks { await task.value }
        try await http.shutdown()
        let stored = console.follower.counters.statusRecords
        await console.stop()

        let sorted = tally.latencies.withLock { $0 }.sorted()
        func percentile(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
        }
        let perSecond = Double(stored) / projectSeconds
        // The same once the follower stores (the group join and first fetch left out): the rate it keeps up with.
        let steady = firstStored.map { Double(stored - $0.count) / max((finished - $0.at).seconds, 0.001) } ?? 0
        let p99 = percentile(0.99)
        return Result(
            statuses: stored, readers: readers, projectSeconds: projectSeconds, statusesPerSecond: perSecond,
            statusesPerSecondOnceStoring: steady,
            requests: sorted.count, failedRequests: tally.failures.load(ordering: .relaxed), pageP50Milliseconds: percentile(0.5),
            pageP99Milliseconds: p99, pageMaxMilliseconds: sorted.last ?? 0,
            viewTTLMilliseconds: Int(viewTTL.milliseconds), goalStatusesPerSecond: 30_000, goalP99Milliseconds: 100,
            keepsUp: perSecond >= 30_000 && stored >= statuses, p99WithinGoal: p99 <= 100,
            note: "backlog of \(statuses) status events (queued then sent per message, \(campaigns) campaigns, \(devices) devices) projected into a SQLite file while \(readers) readers poll the campaign page fragment and its JSON; the start includes catching up from the topic's beginning")
    }

    private func produceBacklog(client: KafkaClientOptions, topics: TopicNames) async throws {
        let producer = try KafkaProducer(configuration: ProducerConfiguration(client: client))
        let messages = statuses / 2
        let start = Date().addingTimeInterval(-Double(messages) / 1000)
        var chunk: [ProducerRecord] = []
        chunk.reserveCapacity(20_000)
        for index in 0..<messages {
            let campaign = "bench-campaign-\(index % campaigns)"
            let id = "cmp-\(campaign)-\(String(index, radix: 16))"
            let at = start.addingTimeInterval(Double(index) / 1000)
            for (status, offset) in [(MessageStatus.queued, 0.0), (.sent, 0.5)] {
                let event = StatusEvent(
                    messageId: id, userId: "bench-user", deviceId: "dev-\(index % devices)", campaignId: campaign,
                    recipientPhone: "+6011\(String(format: "%08d", index))", status: status, attempt: status == .sent ? 1 : 0,
                    at: at.addingTimeInterval(offset), worker: status == .sent ? "bench-worker" : nil)
                chunk.append(ProducerRecord(topic: topics.status, key: Array(id.utf8), value: event.encoded(), headers: [KafkaHeader(RecordSchema.statusHeader)]))
            }
            if chunk.count >= 20_000 {
                for result in try await producer.send(chunk) { _ = try result.get() }
                chunk.removeAll(keepingCapacity: true)
            }
        }
        if !chunk.isEmpty { for result in try await producer.send(chunk) { _ = try result.get() } }
        await producer.close()
    }
}

/// What the readers share.
private final class Tally: Sendable {
    let latencies = Mutex<[Double]>([])
    let failures = Atomic<Int>(0)
    let done = Atomic<Bool>(false)
}

extension Duration {
    fileprivate var milliseconds: Double { seconds * 1000 }
}
