import BroadcastModel
import DevicePolicies
import Foundation
import Kafka
import Logging
import Operations
import Publishing
import Senders
import Sequences
import WorkerRuntime

/// `broadcast dev`: the whole flow in one process on the embedded cluster: a demo campaign and a
/// demo sequence are published, workers send them through the simulated sender, the run is watched
/// on the status topic and checked against the invariants at the end.
public struct DevRun: Sendable {
    public var devices = 50
    public var messages = 2_000
    public var workers = 3
    public var minDelay = 0.5
    public var maxDelay = 1.5
    public var duration: Duration = .seconds(120)
    public var partitions = 12
    public var sequenceContacts = 40
    public var sender = SimulatedSender.Configuration()

    public init() {
        sender.minLatencyMilliseconds = 80
        sender.maxLatencyMilliseconds = 400
        sender.retryableFailureRate = 0.02
        sender.permanentFailureRate = 0.005
    }

    /// Runs until every message is final or `duration` passes. `progress` gets a line every second.
    /// With `board`, the live status board (latest status per message, by campaign, step and device)
    /// is drawn once a second instead of the progress line.
    public func run(
        logger: Logger, progress: @escaping @Sendable (String) -> Void, board: (@Sendable (String) -> Void)? = nil
    ) async throws -> RunSummary {
        let started = ContinuousClock.now
        let cluster = try EmbeddedKafkaCluster(brokers: 3, logger: logger)
        defer { cluster.shutDown() }
        let topics = TopicNames()
        for topic in topics.all { try cluster.createTopic(topic, partitions: partitions, replicationFactor: 3) }
        progress("embedded cluster at \(cluster.bootstrapServers): \(partitions) partitions per topic")

        let producer = try KafkaProducer(configuration: ProducerConfiguration(bootstrapServers: cluster.bootstrapServers), logger: logger)
        let status = try StatusCollector(bootstrapServers: cluster.bootstrapServers, topic: topics.status)
        let workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("broadcast-dev-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: workDirectory) }

        let deviceIds = (1...devices).map { String(format: "dev-%03d", $0) }
        var expected = try await publishCampaign(deviceIds: deviceIds, producer: producer, topics: topics, directory: workDirectory, logger: logger)
        progress("campaign published: \(expected.count) messages over \(devices) devices")
        let sequences = try await DemoSequence(
            contacts: sequenceContacts, devices: deviceIds, delay: (minDelay, maxDelay), directory: workDirectory,
            producer: producer, topics: topics, logger: logger
        )

        let members = try (1...workers).map { index in
            try startWorker(name: "dev-worker-\(index)", bootstrap: cluster.bootstrapServers, producer: producer, topics: topics, logger: logger)
        }
        progress("\(workers) workers joining the group (the embedded cluster waits ~3 s for the first join)")

        let deadline = started + duration
        var lastLine = ContinuousClock.now
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(250))
            expected.formUnion(try await sequences.publishDue())
            let events = status.snapshot
            let finals = Set(events.filter { $0.status.isFinal }.map(\.messageId))
            if ContinuousClock.now - lastLine >= .seconds(1) {
                lastLine = .now
                if let board {
                    var statusBoard = StatusBoard(rateWindow: 10)
                    for event in events { statusBoard.apply(event) }
                    board(StatusBoardRenderer.render(statusBoard.snapshot(now: Date()), maxDevices: 12))
                } else {
                    progress(Self.progressLine(events: events, expected: expected.count, since: started))
                }
            }
            if sequences.isDone, expected.isSubset(of: finals) { break }
        }
        for member in members { member.worker.shutdown() }
        for member in members { try await member.task.value }
        try await Task.sleep(for: .milliseconds(300))
        await status.close()
        await producer.close()

        let delays = (min: minDelay, sequenceMin: sequences.minimumDelay)
        return RunVerifier.summarize(
            status.snapshot, expected: expected, wallSeconds: (ContinuousClock.now - started).seconds
        ) { event in event.sequenceId == nil ? delays.min : delays.sequenceMin }
    }

    private func publishCampaign(
        deviceIds: [String], producer: KafkaProducer, topics: TopicNames, directory: URL, logger: Logger
    ) async throws -> Set<String> {
        let csv = directory.appendingPathComponent("recipients.csv")
        var text = "phone,name,city\n"
        let cities = ["Kuala Lumpur", "Petaling Jaya", "Shah Alam", "Johor Bahru", "Penang"]
        for index in 0..<messages {
            text += "+6011\(String(format: "%08d", 10_000_000 + index)),Customer \(index),\(cities[index % cities.count])\n"
        }
        try text.write(to: csv, atomically: true, encoding: .utf8)
        let campaign = Campaign(
            id: "demo-campaign", userId: "demo-user", name: "Demo campaign",
            content: .init(type: .text, text: "{Hi|Hello} {name}, our {city} store opens this weekend. Reply STOP to opt out."),
            recipientsPath: csv.path, devices: deviceIds,
            delay: .init(minSeconds: minDelay, maxSeconds: maxDelay), scheduledAt: Date(timeIntervalSinceNow: -1)
        )
        let plan = try CampaignPlanner.plan(campaign: campaign)
        let publisher = CampaignPublisher(producer: producer, topics: PublishTopics(messages: topics.messages, status: topics.status), logger: logger)
        let report = try await publisher.publish(plan)
        guard report.failed == 0 else { throw DevRunError.publishFailed(report.failed) }
        var ids: Set<String> = []
        try plan.forEachRecipient { ids.insert($0.messageId) }
        return ids
    }

    private func startWorker(
        name: String, bootstrap: String, producer: KafkaProducer, topics: TopicNames, logger: Logger
    ) throws -> (worker: DeviceWorkerService, task: Task<Void, any Error>) {
        var configuration = WorkerConfiguration(topics: topics, workerName: name)
        configuration.shutdownGrace = .seconds(10)
        var base = ConsumerConfiguration(bootstrapServers: bootstrap, groupId: "broadcast-dev-workers")
        base.sessionTimeoutMilliseconds = 6_000
        let consumer = WorkerConfiguration.consumer(base)
        let worker = try DeviceWorkerService(
            configuration: configuration, consumer: consumer, producer: producer,
            senders: SingleSenderDirectory(SimulatedSender(configuration: sender)),
            // Renders placeholders and spintax per message, as production does (no caps or quiet hours here).
            policy: AntiSpamPolicy(logger: logger), logger: logger
        )
        return (worker, Task { try await worker.run() })
    }

    static func progressLine(events: [StatusEvent], expected: Int, since started: ContinuousClock.Instant) -> String {
        var latest: [String: MessageStatus] = [:]
        for event in events where !(latest[event.messageId]?.isFinal ?? false) { latest[event.messageId] = event.status }
        let counts = Dictionary(grouping: latest.values, by: { $0 }).mapValues(\.count)
        let sent = counts[.sent, default: 0]
        let elapsed = (ContinuousClock.now - started).seconds
        let parts: [String] = [
            "sent \(sent)/\(expected)", "failed \(counts[.failed, default: 0])", "retrying \(counts[.retrying, default: 0])",
            "expired \(counts[.expired, default: 0])", "queued \(counts[.queued, default: 0])",
        ]
        return String(format: "[%5.1fs] ", elapsed) + parts.joined(separator: " · ")
    }
}

public enum DevRunError: Error, CustomStringConvertible {
    case publishFailed(Int)

    public var description: String {
        switch self {
        case .publishFailed(let count): return "\(count) demo records were not acknowledged by the embedded cluster"
        }
    }
}

