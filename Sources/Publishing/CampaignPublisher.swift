import ContactFiles
import BroadcastModel
import Foundation
import Kafka
import Logging

/// Publishes a validated campaign: one `BroadcastMessage` per recipient to the messages topic
/// (key = device id) and one `queued` `StatusEvent` to the status topic (key = message id).
///
/// Rows are read again from the file and published in chunks through `enqueue`, with at most
/// ``maxChunksInFlight`` chunks awaiting acknowledgement, so memory stays bounded however long the
/// list is. The producer's idempotence (the binding's default) keeps retries from duplicating.
public struct CampaignPublisher: Sendable {
    public var producer: KafkaProducer
    public var topics: PublishTopics
    /// Recipients per `enqueue` call (two records each).
    public var chunkSize = 10_000
    /// Chunks handed to librdkafka and not yet acknowledged; bounds memory and keeps the pipe full.
    public var maxChunksInFlight = 16
    public var logger: Logger

    public init(producer: KafkaProducer, topics: PublishTopics, logger: Logger = Logger(label: "broadcast.publish")) {
        self.producer = producer
        self.topics = topics
        self.logger = logger
    }

    /// Publishes the plan's recipients. Refuses (publishing nothing) when rows are invalid and
    /// `skipInvalid` is false. `progress` is called after each acknowledged chunk.
    public func publish(
        _ plan: CampaignPlan,
        skipInvalid: Bool = false,
        now: Date = Date(),
        progress: (@Sendable (PublishProgress) -> Void)? = nil
    ) async throws(PublishError) -> PublishReport {
        let campaign = plan.campaign
        guard plan.canPublish(skipInvalid: skipInvalid) else { throw .invalidRecipients(count: plan.issues.count) }
        guard try FileFingerprint(path: campaign.recipientsPath) == plan.fingerprint else {
            throw .recipientsChanged(path: campaign.recipientsPath)
        }
        logger.info("publishing campaign", metadata: [
            "campaign": "\(campaign.id)", "recipients": "\(plan.counts.recipients)", "devices": "\(campaign.devices.count)",
            "skippedInvalid": "\(plan.counts.invalid)", "messagesTopic": "\(topics.messages)", "statusTopic": "\(topics.status)",
        ])

        let clock = ContinuousClock.now
        var report = PublishReport(campaignId: campaign.id, counts: plan.counts, perDevice: plan.perDevice)
        var reader: CSVFileReader
        do { reader = try CSVFileReader(path: campaign.recipientsPath) } catch { throw .recipientsFile(error) }
        let columns = try CampaignPlanner.readHeader(&reader, campaign: campaign)
        let builder = RecordBuilder(campaign: campaign, topics: topics, attributeNames: columns.attributeNames, createdAt: now)
        var pipeline = plan.makePipeline()

        var inFlight: [InFlightChunk] = []
        // The chunk being handed to librdkafka while the next one is read and encoded: the two
        // stages run on both cores instead of one after the other.
        var handing: (task: Task<PendingDeliveries, any Error>, ids: [String])?
        var chunk = builder.makeBatch(recipients: chunkSize)
        var chunkIds: [String] = []
        chunkIds.reserveCapacity(chunkSize)
        var accepted = 0
        var settled = 0

        func settleOldest() async {
            let oldest = inFlight.removeFirst()
            let failures = await oldest.pending.failures()
            tally(records: oldest.pending.count, failures: failures, ids: oldest.messageIds, into: &report)
            settled += oldest.messageIds.count
            progress?(PublishProgress(total: plan.counts.recipients, settled: settled, failedRecords: report.failed, elapsedSeconds: elapsed(since: clock)))
        }
        func finishHanding() async throws(PublishError) {
            guard let current = handing else { return }
            handing = nil
            do {
                inFlight.append(InFlightChunk(pending: try await current.task.value, messageIds: current.ids))
            } catch let error as KafkaError {
                throw .kafka(error)
            } catch {
                throw .kafka(KafkaError(code: -1, name: "_UNKNOWN", message: "\(error)", context: "enqueueing a chunk"))
            }
            while inFlight.count >= maxChunksInFlight { await settleOldest() }
        }
        func flushChunk() async throws(PublishError) {
            guard !chunk.isEmpty else { return }
            try await finishHanding()
            let records = chunk
            let producer = producer
            handing = (Task { () async throws -> PendingDeliveries in try await producer.enqueue(records) }, chunkIds)
            chunk = builder.makeBatch(recipients: chunkSize)
            chunkIds = []
            chunkIds.reserveCapacity(chunkSize)
        }

        do {
            while let record = try CampaignPlanner.next(&reader) {
                guard let row = pipeline.accept(record) else { continue }
                accepted += 1
                builder.append(row, to: &chunk)
                chunkIds.append(row.messageId)
                if chunkIds.count >= chunkSize { try await flushChunk() }
            }
            try await flushChunk()
            try await finishHanding()
        } catch {
            // Whatever was handed over is still delivered; wait so the report tells what landed.
            if let current = handing, let pending = try? await current.task.value {
                inFlight.append(InFlightChunk(pending: pending, messageIds: current.ids))
            }
            while !inFlight.isEmpty { await settleOldest() }
            logger.error("publishing stopped", metadata: ["campaign": "\(campaign.id)", "error": "\(error)", "published": "\(report.published)"])
            throw error
        }
        while !inFlight.isEmpty { await settleOldest() }

        if accepted != plan.counts.recipients {
            report.warnings.append("the recipients file gave \(accepted) recipients while publishing but \(plan.counts.recipients) while validating: was it edited meanwhile?")
        }
        report.elapsedSeconds = elapsed(since: clock)
        logger.info("campaign published", metadata: [
            "campaign": "\(campaign.id)", "published": "\(report.published)", "failed": "\(report.failed)",
            "seconds": "\(String(format: "%.2f", report.elapsedSeconds))",
        ])
        return report
    }

    /// Counts acknowledgements of one chunk: records alternate message, status per recipient.
    private func tally(records: Int, failures: [(index: Int, error: KafkaError)], ids: [String], into report: inout PublishReport) {
        let failedMessages = failures.count { $0.index % 2 == 0 }
        report.published += records / 2 - failedMessages
        report.statusPublished += records / 2 - (failures.count - failedMessages)
        for (index, error) in failures {
            let isMessage = index % 2 == 0
            report.failed += 1
            let id = ids[index / 2]
            if report.failureSamples.count < PublishReport.maxFailureSamples {
                report.failureSamples.append("\(id) (\(isMessage ? "message" : "status")): \(error.name): \(error.message)")
            }
            // Message ids carry no phone number, so they are safe to log.
            logger.warning("record not acknowledged", metadata: ["messageId": "\(id)", "record": "\(isMessage ? "message" : "status")", "error": "\(error)"])
        }
    }
}

private struct InFlightChunk {
    var pending: PendingDeliveries
    var messageIds: [String]
}

private func elapsed(since start: ContinuousClock.Instant) -> Double { (ContinuousClock.now - start).seconds }
