import Foundation

extension Campaign {
    /// Bytes of one message record and of its `queued` status event as this campaign publishes them
    /// (a sample recipient with one attribute), for sizing topics and benchmarks.
    public func sampleRecordSizes() -> (message: Int, status: Int) {
        let builder = RecordBuilder(campaign: self, topics: PublishTopics(), attributeNames: ["city"], createdAt: Date())
        var batch = builder.makeBatch(recipients: 1)
        let phone = "+60121000000"
        builder.append(
            messageId: MessageID.make(campaignId: id, phone: phone), phone: phone, name: "Customer 0",
            deviceId: devices[0], attribute: { _ in "Kuala Lumpur" }, to: &batch)
        return (batch.value(of: 0).count, batch.value(of: 1).count)
    }
}
