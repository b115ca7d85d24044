import BroadcastModel
import DevicePolicies
import Foundation
import Kafka
import Logging
import Sequences
import Synchronization
import Webhooks

/// The provider's half of `broadcast dev`: a real `broadcast webhooks` receiver on 127.0.0.1, and a
/// stand-in for Meta that posts signed receipts for a share of the sent messages (most delivered,
/// many read), a few contacts' replies, and one STOP.
final class DemoProvider: Sendable {
    static let phoneNumberId = "dev-phone-number"
    /// Out of 100 sent messages: delivered, and of those, read.
    static let deliveredPercent = 92
    static let readPercent = 60

    let receiver: WebhookReceiver
    let optOuts = OptOutStore()
    let replies = ReplyLedger()
    private let producer: KafkaProducer
    private let topics: TopicNames
    private let server: WebhookServer
    private let client: WebhookClient
    private let optOutFollower: OptOutFollower
    private let replyLedgerFollower: InboundReplyFollower
    private let replyStopper: ReplyFollower
    private let handled = Mutex<(delivered: Set<String>, read: Set<String>)>(([], []))
    private let posted = Mutex<(receipts: Int, failedPosts: Int)>((0, 0))

    init(bootstrap: String, topics: TopicNames, producer: KafkaProducer, sequences: any SequenceStore, logger: Logger) async throws {
        self.producer = producer
        self.topics = topics
        let secret = "dev-secret-\(UUID().uuidString)"
        receiver = WebhookReceiver(
            configuration: .init(appSecret: secret, verifyToken: "dev", topics: topics),
            publisher: KafkaWebhookPublisher(producer: producer), logger: logger)
        server = try await WebhookServer.start(host: "127.0.0.1", port: 0, receiver: receiver, logger: logger)
        client = WebhookClient(baseURL: "http://127.0.0.1:\(server.port)", appSecret: secret)
        let clientOptions = KafkaClientOptions(bootstrapServers: bootstrap)
        optOutFollower = try OptOutFollower(client: clientOptions, topic: topics.optOuts, store: optOuts, logger: logger)
        try optOutFollower.start()
        replyLedgerFollower = try InboundReplyFollower(client: clientOptions, topic: topics.inbound, ledger: replies, logger: logger)
        try replyLedgerFollower.start()
        var replyConsumer = ConsumerConfiguration(bootstrapServers: bootstrap, groupId: "broadcast-dev-replies")
        replyConsumer.assignmentStrategy = .roundRobin
        replyStopper = try ReplyFollower(consumer: replyConsumer, topic: topics.inbound, store: sequences, logger: logger)
        try replyStopper.start()
    }

    var port: Int { server.port }
    var sequencesStopped: Int { replyStopper.stopped }
    var receiptsPosted: Int { posted.withLock { $0.receipts } }

    /// Contacts write to their device (a reply, or `text`), through a signed webhook.
    func contactWrites(_ phones: [String], text: String) async throws {
        for phone in phones {
            let body = CloudAPIWebhookBody.message(
                from: String(phone.dropFirst()), text: text, providerMessageId: "wamid.dev-in-\(UUID().uuidString.prefix(8))",
                timestamp: Int(Date().timeIntervalSince1970), phoneNumberId: Self.phoneNumberId)
            let answer = try await client.postCloudAPI(body)
            guard answer == 200 else { throw DevRunError.webhookRefused(answer) }
        }
    }

    /// Posts receipts for `sent` events not handled yet: first `delivered`, on a later call `read`,
    /// 100 per POST as Meta batches them. Which messages get which is a stable function of the id.
    func postReceipts(for events: [StatusEvent]) async {
        let sent = events.filter { $0.status == .sent && $0.providerMessageId != nil }
        let (toDeliver, toRead) = handled.withLock { handled -> ([StatusEvent], [StatusEvent]) in
            var deliver: [StatusEvent] = []
            var read: [StatusEvent] = []
            for event in sent {
                let bucket = Self.bucket(event.messageId)
                if bucket < Self.deliveredPercent, !handled.delivered.contains(event.messageId) {
                    handled.delivered.insert(event.messageId)
                    deliver.append(event)
                } else if bucket < Self.deliveredPercent * Self.readPercent / 100, handled.delivered.contains(event.messageId),
                          !handled.read.contains(event.messageId) {
                    handled.read.insert(event.messageId)
                    read.append(event)
                }
            }
            return (deliver, read)
        }
        for (status, batch) in [("delivered", toDeliver), ("read", toRead)] {
            for start in stride(from: 0, to: batch.count, by: 100) {
                let receipts = batch[start..<min(batch.count, start + 100)].map { event in
                    CloudAPIWebhookBody.Receipt(
                        messageId: event.messageId, providerMessageId: event.providerMessageId ?? "", status: status,
                        recipientDigits: String(event.recipientPhone.dropFirst()), timestamp: Int(Date().timeIntervalSince1970))
                }
                let ok = (try? await client.postCloudAPI(CloudAPIWebhookBody.statuses(receipts, phoneNumberId: Self.phoneNumberId))) == 200
                posted.withLock { counts in
                    if ok { counts.receipts += receipts.count } else { counts.failedPosts += 1 }
                }
            }
        }
    }

    /// Publishes one message record (keyed by device), as an upstream app would.
    func publish(_ message: BroadcastMessage) async throws {
        _ = try await producer.send(ProducerRecord(
            topic: topics.messages, key: Array(message.deviceId.utf8), value: message.encoded(), headers: [KafkaHeader(RecordSchema.messageHeader)]))
    }

    static func bucket(_ id: String) -> Int {
        var hash: UInt64 = 1469598103934665603
        for byte in id.utf8 { hash = (hash ^ UInt64(byte)) &* 1099511628211 }
        return Int(hash % 100)
    }

    func close() async {
        await replyStopper.close()
        await replyLedgerFollower.close()
        await optOutFollower.close()
        await server.stop()
    }
}

/// Receipts, replies and the opt-out in `broadcast dev`'s summary.
public struct ReceiptSummary: Sendable, Codable, Equatable {
    /// Messages the provider accepted (latest status sent, delivered or read).
    public var accepted: Int
    public var delivered: Int
    public var read: Int
    public var deliveredRate: Double
    public var readRate: Double
    public var receiptsPosted: Int
    public var replies: Int
    public var sequencesStoppedByReplies: Int
    /// The contact who wrote STOP (masked), and what became of the message sent to them afterwards.
    public var optedOutPhone: String?
    public var afterStopStatus: String?
    public var afterStopReason: String?

    var humanReadable: String {
        """
        receipts        \(receiptsPosted) posted through the signed webhook receiver
        delivered       \(delivered) of \(accepted) accepted (\(String(format: "%.1f", deliveredRate * 100))%, read counted as delivered)
        read            \(read) (\(String(format: "%.1f", readRate * 100))%)
        replies         \(replies) contacts replied; \(sequencesStoppedByReplies) sequence enrolments stopped
        opt-out         \(optedOutPhone ?? "none") wrote STOP; next message: \(afterStopStatus ?? "n/a")\(afterStopReason.map { " (\($0))" } ?? "")
        """
    }
}
