import BroadcastModel
import ContactFiles
import Foundation
import Kafka
import Logging
import Publishing

/// `broadcast bench publish`: publishes a generated campaign of N recipients on an embedded
/// cluster and, in the same run, produces as many records of the same sizes straight through the
/// binding. The ratio of the two record rates says what validation, CSV reading and encoding cost
/// (goal ≥ 0.5: each recipient is two records).
public enum PublishBenchmark {
    public struct Result: Codable, Sendable {
        public var recipients: Int
        /// Records the campaign produced: a message and a status per recipient.
        public var records: Int
        public var partitions: Int
        public var messageBytes: Int
        public var statusBytes: Int
        /// The validation pass (read, check, deduplicate the CSV).
        public var validateSeconds: Double
        /// The publish pass (read again, encode, produce, await every acknowledgement).
        public var publishSeconds: Double
        /// Records per second over both passes: what an operator waits for.
        public var campaignRecordsPerSecond: Double
        /// Records per second of the publish pass alone.
        public var publishPassRecordsPerSecond: Double
        /// The binding producing the same number of same-size records, no CSV, no encoding.
        public var rawRecordsPerSecond: Double
        /// campaignRecordsPerSecond ÷ rawRecordsPerSecond.
        public var ratio: Double
        public var publishPassRatio: Double
        public var goal: Double
        public var note: String
    }

    public static func run(
        recipients: Int = 1_000_000, partitions: Int = 128, devices: Int = 20, logger: Logger = Logger(label: "broadcast.bench")
    ) async throws -> Result {
        let cluster = try EmbeddedKafkaCluster(brokers: 3, logger: logger)
        defer { cluster.shutDown() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("broadcast-bench-publish-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let campaignPath = try writeCampaign(in: directory, recipients: recipients, devices: devices)
        let topics = PublishTopics(prefix: "bench.")
        let raw = PublishTopics(prefix: "bench.raw.")
        for topic in [topics.messages, topics.status, raw.messages, raw.status] {
            try cluster.createTopic(topic, partitions: partitions)
        }

        // Raw first: same records count and sizes as the campaign will produce.
        let campaign = try CampaignLoader.load(path: campaignPath)
        let sample = campaign.sampleRecordSizes()
        let rawRate = try await produceRaw(cluster: cluster, topics: raw, records: recipients * 2, sizes: sample, devices: campaign.devices, logger: logger)

        let producer = try await warmProducer(cluster: cluster, topics: topics, logger: logger)
        let validateStart = ContinuousClock.now
        let plan = try CampaignPlanner.plan(campaign: campaign)
        let validateSeconds = seconds(since: validateStart)
        let publishStart = ContinuousClock.now
        let report = try await CampaignPublisher(producer: producer, topics: topics, logger: logger).publish(plan)
        let publishSeconds = seconds(since: publishStart)
        await producer.close()
        guard report.succeeded else { throw PublishBenchmarkError.incomplete(report.summary) }

        let records = recipients * 2
        let campaignRate = Double(records) / (validateSeconds + publishSeconds)
        let passRate = Double(records) / publishSeconds
        return Result(
            recipients: recipients, records: records, partitions: partitions,
            messageBytes: sample.message, statusBytes: sample.status,
            validateSeconds: round(validateSeconds, 3), publishSeconds: round(publishSeconds, 3),
            campaignRecordsPerSecond: round(campaignRate, 0), publishPassRecordsPerSecond: round(passRate, 0),
            rawRecordsPerSecond: round(rawRate, 0), ratio: round(campaignRate / rawRate, 3), publishPassRatio: round(passRate / rawRate, 3),
            goal: 0.5,
            note: "one run on an embedded cluster of 3 brokers; campaign rate covers validation and publishing, each recipient = message + queued status")
    }

    /// A campaign of `recipients` rows: names, a city attribute, every 50th row pinned to a device.
    static func writeCampaign(in directory: URL, recipients: Int, devices: Int) throws -> String {
        let deviceIds = (0..<devices).map { "device-\($0)" }
        let yaml = """
            id: bench-campaign
            userId: bench-user
            name: Benchmark campaign
            message:
              type: text
              text: "{Hi|Hello|Hey} {name}, our {city} store opens on Saturday with 20% off. Reply STOP to opt out."
              greeting: true
            recipients: recipients.csv
            devices: [\(deviceIds.joined(separator: ", "))]
            delay: { min: 8, max: 20 }
            scheduledAt: 2030-01-01T09:00:00+08:00
            expiresAt: 2030-01-02T21:00:00+08:00

            """
        let campaignPath = directory.appendingPathComponent("campaign.yaml").path
        try yaml.write(toFile: campaignPath, atomically: true, encoding: .utf8)

        let cities = ["Kuala Lumpur", "Penang", "Johor Bahru", "Ipoh", "Kuching"]
        guard let out = FileHandle(forWritingAtPath: createEmpty(directory.appendingPathComponent("recipients.csv").path)) else {
            throw PublishBenchmarkError.incomplete("cannot write the recipients file")
        }
        defer { try? out.close() }
        var text = "phone,name,city,device\n"
        for index in 0..<recipients {
            let pinned = index % 50 == 0 ? deviceIds[(index / 50) % devices] : ""
            text += "+6012\(String(1_000_000 + index).suffix(7)),Customer \(index),\(cities[index % cities.count]),\(pinned)\n"
            if text.utf8.count > 1 << 20 {
                out.write(Data(text.utf8))
                text = ""
            }
        }
        out.write(Data(text.utf8))
        return campaignPath
    }

    private static func createEmpty(_ path: String) -> String {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        return path
    }


    private static func warmProducer(cluster: EmbeddedKafkaCluster, topics: PublishTopics, logger: Logger) async throws -> KafkaProducer {
        let producer = try KafkaProducer(configuration: ProducerConfiguration(bootstrapServers: cluster.bootstrapServers), logger: logger)
        // Connections and metadata first, so neither side pays for them in its timing.
        for topic in [topics.messages, topics.status] {
            _ = try await producer.send(ProducerRecord(topic: topic, key: Array("warm-up".utf8), value: [0]))
        }
        return producer
    }

    private static func produceRaw(
        cluster: EmbeddedKafkaCluster, topics: PublishTopics, records: Int, sizes: (message: Int, status: Int), devices: [String], logger: Logger
    ) async throws -> Double {
        let producer = try await warmProducer(cluster: cluster, topics: topics, logger: logger)
        let message = [UInt8](repeating: UInt8(ascii: "m"), count: sizes.message)
        let status = [UInt8](repeating: UInt8(ascii: "s"), count: sizes.status)
        // The same batches, keys and `schema` headers as the campaign's: same records, minus CSV
        // reading, checks and encoding.
        var empty = ProducerBatch()
        let messageTopic = empty.addTopic(topics.messages)
        let statusTopic = empty.addTopic(topics.status)
        let messageHeaders = empty.addHeaders([KafkaHeader(RecordSchema.messageHeader)])
        let statusHeaders = empty.addHeaders([KafkaHeader(RecordSchema.statusHeader)])
        let start = ContinuousClock.now
        var pending: [PendingDeliveries] = []
        var sent = 0
        while sent < records {
            let count = min(20_000, records - sent)
            var batch = empty
            batch.reserveCapacity(records: count, bytes: count / 2 * (sizes.message + sizes.status + 64))
            for index in sent..<(sent + count) {
                if index % 2 == 0 {
                    batch.append(topic: messageTopic, key: devices[(index / 2) % devices.count], headers: messageHeaders) { $0.append(contentsOf: message) }
                } else {
                    batch.append(topic: statusTopic, key: "cmp-bench-campaign-\(index)", headers: statusHeaders) { $0.append(contentsOf: status) }
                }
            }
            pending.append(try await producer.enqueue(batch))
            sent += count
        }
        var failed = 0
        for deliveries in pending {
            failed += await deliveries.failures().count
        }
        let elapsed = seconds(since: start)
        await producer.close()
        guard failed == 0 else { throw PublishBenchmarkError.incomplete("\(failed) raw records not acknowledged") }
        return Double(records) / elapsed
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double { (ContinuousClock.now - start).seconds }

    private static func round(_ value: Double, _ places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (value * scale).rounded() / scale
    }
}

public enum PublishBenchmarkError: Error, CustomStringConvertible {
    case incomplete(String)

    public var description: String {
        switch self {
        case .incomplete(let text): "publish benchmark incomplete: \(text)"
        }
    }
}
