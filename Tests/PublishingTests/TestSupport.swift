import BroadcastModel
import Foundation
import Kafka
import Publishing
import Testing

/// A temporary directory with a campaign file and its recipients, removed when released.
final class CampaignFixture: Sendable {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("publishing-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Writes `campaign.yaml` (plus `extra` top-level lines) and `recipients.csv`.
    func campaign(csv: String, devices: String = "[dev-a, dev-b, dev-c]", extra: String = "", text: String = "Hi {name}, sale this weekend!") throws -> String {
        try write("recipients.csv", csv)
        return try write("campaign.yaml", """
            id: test-cmp
            userId: user-1
            name: Test campaign
            message:
              type: text
              text: "\(text)"
            recipients: recipients.csv
            devices: \(devices)
            delay: { min: 5, max: 10 }
            scheduledAt: 2030-01-01T09:00:00Z
            \(extra)
            """)
    }

    func plan(_ path: String, optOut: OptOutSet = OptOutSet(), country: String? = "60") throws -> CampaignPlan {
        try CampaignPlanner.plan(campaign: try CampaignLoader.load(path: path), optOut: optOut, defaultCountryCode: country)
    }
}

extension CampaignPlan {
    func recipients() throws -> [PlannedRecipient] {
        var result: [PlannedRecipient] = []
        try forEachRecipient { result.append($0) }
        return result
    }
}

/// A consumed record copied out of its batch.
struct Received: Sendable {
    var topic: String
    var key: String?
    var value: [UInt8]
    var schemaHeader: String?
}

/// An embedded cluster with unique topics for one test.
final class TestKafka: Sendable {
    let cluster: EmbeddedKafkaCluster
    let topics: PublishTopics

    init(partitions: Int = 6) throws {
        cluster = try EmbeddedKafkaCluster(brokers: 1)
        topics = PublishTopics(prefix: "t\(UUID().uuidString.prefix(6)).")
        try cluster.createTopic(topics.messages, partitions: partitions)
        try cluster.createTopic(topics.status, partitions: partitions)
    }

    deinit { cluster.shutDown() }

    func publisher() throws -> CampaignPublisher {
        var configuration = ProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
        configuration.client.properties["reconnect.backoff.max.ms"] = "1000"
        var publisher = CampaignPublisher(producer: try KafkaProducer(configuration: configuration), topics: topics)
        publisher.chunkSize = 7  // several chunks even for small files
        publisher.maxChunksInFlight = 2
        return publisher
    }

    /// Reads both topics with an independent consumer until `count` records arrived or 30 s passed.
    func readAll(count: Int) async throws -> [Received] {
        var configuration = ConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupId: "reader-\(UUID().uuidString)")
        configuration.sessionTimeoutMilliseconds = 6_000
        let consumer = try KafkaConsumer(configuration: configuration)
        try consumer.subscribe(topics: [topics.messages, topics.status])
        let result = try await withThrowingTaskGroup(of: [Received]?.self) { group in
            group.addTask {
                var seen: [Received] = []
                for await event in consumer.events {
                    if case .messages(let batch) = event {
                        seen += batch.map {
                            Received(topic: $0.topic, key: $0.keyString, value: $0.valueBytes ?? [],
                                     schemaHeader: $0.header(RecordSchema.headerName).map { String(decoding: $0, as: UTF8.self) })
                        }
                    }
                    if seen.count >= count { return seen }
                }
                return seen
            }
            group.addTask {
                try await Task.sleep(for: .seconds(30))
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        await consumer.close()
        guard let result else {
            Issue.record("timed out reading \(count) records")
            return []
        }
        return result
    }

    /// Records currently stored in a topic (sum of high watermarks).
    func stored(_ topic: String, partitions: Int = 6) async throws -> Int64 {
        let consumer = try KafkaConsumer(configuration: ConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupId: "wm-\(UUID().uuidString)"))
        var total: Int64 = 0
        for partition in 0..<partitions {
            total += try await consumer.queryWatermarks(TopicPartition(topic: topic, partition: Int32(partition))).high
        }
        await consumer.close()
        return total
    }
}

extension StableHash {
    static func fnv1aHex(_ text: String) -> String {
        var hash = StableHash()
        hash.combine(text)
        return hash.hex
    }
}
