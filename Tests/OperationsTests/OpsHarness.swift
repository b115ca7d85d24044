import BroadcastModel
import Foundation
import Kafka
import Operations

/// An embedded cluster with every broadcast topic under a unique prefix, and a producer.
final class OpsHarness: Sendable {
    let cluster: EmbeddedKafkaCluster
    let topics: TopicNames
    let producer: KafkaProducer

    init(partitions: Int = 3) throws {
        cluster = try EmbeddedKafkaCluster(brokers: 1)
        topics = TopicNames(prefix: "o\(UUID().uuidString.prefix(6)).")
        for topic in topics.core + [topics.control] { try cluster.createTopic(topic, partitions: partitions) }
        var configuration = ProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
        configuration.client.properties["reconnect.backoff.max.ms"] = "1000"
        producer = try KafkaProducer(configuration: configuration)
    }

    deinit {
        producer.closeNow()  // before its cluster, so it does not log connection errors after it
        cluster.shutDown()
    }

    var client: KafkaClientOptions {
        KafkaClientOptions(bootstrapServers: cluster.bootstrapServers, properties: ["reconnect.backoff.max.ms": "1000"])
    }

    /// Publishes status events keyed by message id, as workers do.
    func publish(_ events: [StatusEvent]) async throws {
        let records = events.map {
            ProducerRecord(topic: topics.status, key: Array($0.messageId.utf8), value: $0.encoded(),
                           headers: [KafkaHeader(name: "schema", string: RecordSchema.status)])
        }
        for result in try await producer.send(records) { _ = try result.get() }
    }

    func close() async { await producer.close() }
}

/// Waits until `condition` holds or the timeout passes; returns whether it held.
func eventually(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}
