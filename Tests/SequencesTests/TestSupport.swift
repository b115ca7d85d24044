import BroadcastModel
import Foundation
import Kafka
import Sequences
import Synchronization
import Testing

/// A temporary folder holding a real SQLite file, removed when the value is released.
final class TempStore: Sendable {
    let directory: URL
    let store: SQLiteSequenceStore
    var path: String { directory.appendingPathComponent("sequences.sqlite").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("seq-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteSequenceStore(path: directory.appendingPathComponent("sequences.sqlite").path)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }
}

/// An instant written as RFC 3339, e.g. `utc("2026-03-08T07:00:00Z")`.
func utc(_ text: String) -> Date {
    guard let date = Timestamp.parse(text) else { fatalError("bad timestamp in test: \(text)") }
    return date
}

/// A one-broker embedded cluster with unique topics, shut down when the test ends.
final class TestCluster: Sendable {
    let cluster: EmbeddedKafkaCluster
    let topics: SequenceTopics

    init() throws {
        cluster = try EmbeddedKafkaCluster(brokers: 1)
        let suffix = UUID().uuidString.prefix(8)
        topics = SequenceTopics(messages: "messages-\(suffix)", status: "status-\(suffix)")
        try cluster.createTopic(topics.messages, partitions: 3)
        try cluster.createTopic(topics.status, partitions: 3)
    }

    deinit { cluster.shutDown() }

    func producer() throws -> KafkaProducer {
        var configuration = ProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
        configuration.client.properties["reconnect.backoff.max.ms"] = "1000"
        return try KafkaProducer(configuration: configuration)
    }

    /// Every record of `topic`, read by an independent consumer group until `count` arrived;
    /// then checks the watermarks so that no record beyond `count` exists.
    func readAll(_ topic: String, count: Int, timeout: Duration = .seconds(30)) async throws -> [ReadRecord] {
        var configuration = ConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupId: "reader-\(UUID().uuidString)")
        configuration.sessionTimeoutMilliseconds = 6_000
        let consumer = try KafkaConsumer(configuration: configuration)
        try consumer.subscribe(topics: [topic])

        let seen = try await withThrowingTaskGroup(of: [ReadRecord]?.self) { group in
            group.addTask {
                var seen: [ReadRecord] = []
                if count == 0 { return seen }
                for await event in consumer.events {
                    if case .messages(let batch) = event {
                        seen += batch.map {
                            ReadRecord(key: $0.keyString, value: $0.valueBytes ?? [], schema: $0.header(RecordSchema.headerName).map { String(decoding: $0, as: UTF8.self) })
                        }
                    }
                    if seen.count >= count { return seen }
                }
                return seen
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else {
                Issue.record("timed out after \(timeout) waiting for \(count) records on \(topic)")
                return [ReadRecord]()
            }
            return result
        }
        var total: Int64 = 0
        for partition in 0..<3 {
            let marks = try await consumer.queryWatermarks(TopicPartition(topic: topic, partition: Int32(partition)))
            total += marks.high - marks.low
        }
        await consumer.close()
        #expect(total == Int64(count), "topic \(topic) holds \(total) records, expected exactly \(count)")
        return seen
    }
}

struct ReadRecord: Sendable {
    var key: String?
    var value: [UInt8]
    var schema: String?
}

/// A sequence used across tests: three steps on days 0, 1 and 3.
func welcomeYAML(id: String = "welcome", timeZone: String = "Asia/Kuala_Lumpur", handOver: String? = nil) -> String {
    """
    id: \(id)
    name: Welcome
    userId: user-1
    timeZone: \(timeZone)
    window: { start: "09:00", end: "18:00" }
    delay: { minSeconds: 20, maxSeconds: 60 }
    \(handOver.map { "handOver: \($0)" } ?? "")
    steps:
      - id: hello
        dayOffset: 0
        content: { type: text, text: "{Hi|Hello} {name}, welcome!" }
      - id: tips
        dayOffset: 1
        window: { start: "10:00", end: "12:00" }
        content: { type: text, text: "Here are three tips, {name}." }
      - id: offer
        dayOffset: 3
        content: { type: image, text: "Your offer", mediaUrl: "https://example.com/offer.png" }
    """
}
