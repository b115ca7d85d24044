import BroadcastModel
import Foundation
import Kafka

/// Builds the Kafka records of one recipient: the message, then its `queued` status event.
struct RecordBuilder {
    let campaign: Campaign
    let topics: PublishTopics
    let createdAt: Date
    private let messageHeaders = [KafkaHeader(name: RecordSchema.headerName, value: Array(RecordSchema.message.utf8))]
    private let statusHeaders = [KafkaHeader(name: RecordSchema.headerName, value: Array(RecordSchema.status.utf8))]
    /// Device keys encoded once; a campaign has few devices and many recipients.
    private var deviceKeys: [String: [UInt8]] = [:]

    init(campaign: Campaign, topics: PublishTopics, createdAt: Date) {
        self.campaign = campaign
        self.topics = topics
        self.createdAt = createdAt
    }

    func message(for recipient: PlannedRecipient) -> BroadcastMessage {
        BroadcastMessage(
            id: recipient.messageId, userId: campaign.userId, deviceId: recipient.deviceId, source: .campaign,
            campaignId: campaign.id, recipient: .init(phone: recipient.phone, name: recipient.name),
            content: campaign.content, delay: campaign.delay, scheduledAt: campaign.scheduledAt,
            expiresAt: campaign.expiresAt, createdAt: createdAt, attributes: recipient.attributes)
    }

    mutating func append(_ recipient: PlannedRecipient, to records: inout [ProducerRecord]) {
        let message = message(for: recipient)
        let key: [UInt8]
        if let cached = deviceKeys[recipient.deviceId] {
            key = cached
        } else {
            key = Array(recipient.deviceId.utf8)
            deviceKeys[recipient.deviceId] = key
        }
        records.append(ProducerRecord(topic: topics.messages, key: key, value: message.encoded(), headers: messageHeaders))
        let status = StatusEvent(for: message, status: .queued, at: createdAt)
        records.append(ProducerRecord(topic: topics.status, key: Array(recipient.messageId.utf8), value: status.encoded(), headers: statusHeaders))
    }
}
