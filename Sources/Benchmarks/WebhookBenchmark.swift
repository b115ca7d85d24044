import AsyncHTTPClient
import BroadcastModel
import Foundation
import Kafka
import Logging
import Webhooks

/// `broadcast bench webhooks`: signed status webhooks (100 statuses per POST, as Meta batches them)
/// verified, parsed and published by a real receiver on 127.0.0.1, against the binding's raw produce
/// rate of the same records in the same run.
public struct WebhookBenchmark: Sendable {
    public var statuses = 200_000
    public var perPost = 100
    public var connections = 8
    public var partitions = 12

    public init() {}

    public struct Result: Codable, Sendable {
        public var statuses: Int
        public var statusesPerPost: Int
        public var connections: Int
        public var partitions: Int
        public var rawProducePerSecond: Double
        public var webhookStatusesPerSecond: Double
        public var postsPerSecond: Double
        /// webhook rate / raw produce rate.
        public var ratio: Double
        public var published: Int
        public var goalStatusesPerSecond: Double
        public var meetsGoal: Bool
        public var note: String
    }

    public func run(logger: Logger) async throws -> Result {
        let cluster = try EmbeddedKafkaCluster(brokers: 3, logger: logger)
        defer { cluster.shutDown() }
        let topics = TopicNames(prefix: "bench.")
        for topic in topics.core { try cluster.createTopic(topic, partitions: partitions) }
        var configuration = ProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
        configuration.lingerMilliseconds = 2
        let producer = try KafkaProducer(configuration: configuration, logger: logger)

        // Baseline: the same status records straight through the binding.
        let now = Date()
        let events = (0..<statuses).map { i in
            StatusEvent(
                messageId: "raw-\(i)", userId: "", deviceId: "dev-\(i % 50)", recipientPhone: "+6011\(String(format: "%08d", i))",
                status: .delivered, at: now, providerMessageId: "wamid.raw-\(i)", worker: "webhooks")
        }
        let rawStart = ContinuousClock.now
        var pending: [PendingDeliveries] = []
        for chunk in stride(from: 0, to: events.count, by: 20_000) {
            let records = events[chunk..<min(events.count, chunk + 20_000)].map {
                ProducerRecord(topic: topics.status, key: Array($0.messageId.utf8), value: $0.encoded(), headers: [KafkaHeader(RecordSchema.statusHeader)])
            }
            pending.append(try await producer.enqueue(records))
        }
        for deliveries in pending { for result in await deliveries.wait() { _ = try result.get() } }
        let rawSeconds = Self.seconds(ContinuousClock.now - rawStart)

        // The receiver, called over HTTP.
        let secret = "bench-app-secret"
        let receiver = WebhookReceiver(
            configuration: .init(appSecret: secret, verifyToken: nil, topics: topics, recentEventCapacity: statuses * 3 + 10),
            publisher: KafkaWebhookPublisher(producer: producer), logger: logger)
        let server = try await WebhookServer.start(host: "127.0.0.1", port: 0, receiver: receiver, logger: logger)
        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
        let client = WebhookClient(baseURL: "http://127.0.0.1:\(server.port)", appSecret: secret, client: http)
        let timestamp = Int(now.timeIntervalSince1970)
        let bodies: [[UInt8]] = stride(from: 0, to: statuses, by: perPost).map { start in
            CloudAPIWebhookBody.statuses((start..<min(statuses, start + perPost)).map { i in
                .init(messageId: "cmp-bench:+6011\(String(format: "%08d", i))", providerMessageId: "wamid.HBgM\(i)",
                      status: i % 3 == 0 ? "read" : "delivered", recipientDigits: "6011\(String(format: "%08d", i))", timestamp: timestamp)
            }, phoneNumberId: "1000")
        }
        let start = ContinuousClock.now
        let failures = try await withThrowingTaskGroup(of: Int.self) { group in
            for lane in 0..<connections {
                group.addTask {
                    var failed = 0
                    var index = lane
                    while index < bodies.count {
                        if try await client.postCloudAPI(bodies[index]) != 200 { failed += 1 }
                        index += connections
                    }
                    return failed
                }
            }
            var total = 0
            for try await failed in group { total += failed }
            return total
        }
        let seconds = Self.seconds(ContinuousClock.now - start)
        try? await http.shutdown()
        await server.stop()
        await producer.close()

        let published = receiver.counters.published
        let rawRate = Double(statuses) / rawSeconds
        let rate = Double(published) / seconds
        let goal = 30_000.0
        return Result(
            statuses: statuses, statusesPerPost: perPost, connections: connections, partitions: partitions,
            rawProducePerSecond: rawRate.rounded(), webhookStatusesPerSecond: rate.rounded(),
            postsPerSecond: (Double(bodies.count) / seconds).rounded(), ratio: (rate / rawRate * 1000).rounded() / 1000,
            published: published, goalStatusesPerSecond: goal, meetsGoal: rate >= goal && failures == 0 && published == statuses,
            note: "each POST verified (HMAC-SHA256), parsed, de-duplicated and acknowledged by Kafka (acks=all) before 200; \(failures) POSTs not answered 200; one process, embedded cluster, shared 2-core machine")
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
