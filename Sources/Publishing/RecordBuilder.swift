import BroadcastModel
import Foundation
import Kafka

/// Builds the Kafka records of one recipient, the message and then its `queued` status event,
/// into a ``ProducerBatch``. Every member a campaign's messages share is encoded once.
struct RecordBuilder {
    private let messages: MessageBatchEncoder
    private let statuses: StatusBatchEncoder
    /// An empty batch with the topics and header sets registered; every batch starts as a copy, so
    /// the handles below hold for all of them.
    private let emptyBatch: ProducerBatch
    private let messageTopic: ProducerBatch.Topic
    private let statusTopic: ProducerBatch.Topic
    private let messageHeaderSet: ProducerBatch.Headers
    private let statusHeaderSet: ProducerBatch.Headers

    init(campaign: Campaign, topics: PublishTopics, attributeNames: [String], createdAt: Date) {
        let shared = BroadcastMessage(
            id: "", userId: campaign.userId, deviceId: "", source: .campaign, campaignId: campaign.id,
            recipient: .init(phone: ""), content: campaign.content, delay: campaign.delay,
            scheduledAt: campaign.scheduledAt, expiresAt: campaign.expiresAt, createdAt: createdAt,
            reroute: campaign.reroute)
        messages = MessageBatchEncoder(shared: shared, attributeNames: attributeNames)
        statuses = StatusBatchEncoder(shared: StatusEvent(for: shared, status: .queued, at: createdAt))
        var batch = ProducerBatch()
        messageTopic = batch.addTopic(topics.messages)
        statusTopic = batch.addTopic(topics.status)
        messageHeaderSet = batch.addHeaders([KafkaHeader(RecordSchema.messageHeader)])
        statusHeaderSet = batch.addHeaders([KafkaHeader(RecordSchema.statusHeader)])
        emptyBatch = batch
    }

    /// An empty batch for `recipients` recipients (two records each).
    func makeBatch(recipients: Int) -> ProducerBatch {
        var batch = emptyBatch
        batch.reserveCapacity(records: recipients * 2, bytes: recipients * 900)
        return batch
    }

    /// Appends the recipient's message (key = device id) and `queued` event (key = message id) to a
    /// batch from ``makeBatch(recipients:)``.
    func append(_ row: AcceptedRow, to batch: inout ProducerBatch) {
        append(messageId: row.messageId, phone: row.phone, name: row.name, deviceId: row.deviceId, attribute: row.attribute, to: &batch)
    }

    func append(
        messageId: String, phone: String, name: String?, deviceId: String, attribute: (Int) -> String?, to batch: inout ProducerBatch
    ) {
        batch.append(topic: messageTopic, key: deviceId, headers: messageHeaderSet) { bytes in
            messages.encode(id: messageId, deviceId: deviceId, recipient: .init(phone: phone, name: name), into: &bytes, attribute: attribute)
        }
        batch.append(topic: statusTopic, key: messageId, headers: statusHeaderSet) { bytes in
            statuses.encode(messageId: messageId, deviceId: deviceId, recipientPhone: phone, into: &bytes)
        }
    }
}
