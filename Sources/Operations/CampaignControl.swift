import BroadcastModel
import Foundation
import Kafka
import Logging

/// What an operator asked of a campaign.
public enum CampaignAction: String, Sendable, Codable, CaseIterable {
    case pause, resume, cancel
}

/// A record on the compacted `broadcast.control` topic, key = campaign id. The latest record per
/// campaign is its state; compaction keeps exactly that.
public struct CampaignControlRecord: Sendable, Equatable, Codable {
    public var campaignId: String
    public var action: CampaignAction
    public var at: Date
    /// Who asked (operator name or host), for the audit trail.
    public var by: String

    public init(campaignId: String, action: CampaignAction, at: Date, by: String) {
        self.campaignId = campaignId
        self.action = action
        self.at = at
        self.by = by
    }

    public func encoded() throws -> [UInt8] {
        Array(try JSONEncoder.sortedWithTimestamps().encode(self))
    }

    public static func decode(_ bytes: [UInt8]) throws -> CampaignControlRecord {
        try JSONDecoder.withTimestamps().decode(CampaignControlRecord.self, from: Data(bytes))
    }
}

/// Publishes campaign control records.
public enum CampaignControlPublisher {
    /// Creates the compacted control topic when it is missing (an existing one is left as it is).
    public static func ensureTopic(
        client: KafkaClientOptions, topics: TopicNames, partitions: Int = 3, replicationFactor: Int = 1,
        logger: Logger = Logger(label: "broadcast.control")
    ) async throws(OperationsError) {
        do {
            let admin = try KafkaAdmin(options: client, logger: logger)
            defer { Task { await admin.close() } }
            // Most clusters have it already (deployments create it); only a missing one is created.
            if try await admin.describeTopic(topics.control) != nil { return }
            try await admin.createTopics([
                NewTopic(
                    name: topics.control, partitions: partitions, replicationFactor: replicationFactor,
                    configs: ["cleanup.policy": "compact"])
            ])
        } catch {
            throw .kafka(error)
        }
    }

    /// Publishes one action and waits for Kafka's acknowledgement.
    @discardableResult
    public static func publish(
        _ record: CampaignControlRecord, producer: KafkaProducer, topics: TopicNames
    ) async throws(OperationsError) -> DeliveryReport {
        guard !record.campaignId.isEmpty else { throw .invalidArgument("a campaign id is required") }
        let value: [UInt8]
        do { value = try record.encoded() } catch { throw .invalidArgument("could not encode the control record: \(error)") }
        do {
            return try await producer.send(ProducerRecord(topic: topics.control, key: record.campaignId, value: value))
        } catch {
            throw .kafka(error)
        }
    }
}
