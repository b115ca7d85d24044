import BroadcastModel
import Console
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
    /// Serves `broadcast console` on the embedded cluster during the run; nil for none.
    public var console: DevConsole? = DevConsole()
    /// Keeps the console up this long after the run (to look at the finished campaign).
    public var consoleLinger: Duration = .zero

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
        let consoleService = try await console?.start(bootstrapServers: cluster.bootstrapServers, topics: topics, logger: logger)
        let consoleLine = consoleService.flatMap { service in console.map { $0.banner(service) } }
        if let consoleLine { progress(consoleLine) }

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
        // The provider's half: a signed webhook receiver, receipts for what is sent, replies and one STOP.
        let provider = try await DemoProvider(
            bootstrap: cluster.bootstrapServers, topics: topics, producer: producer, sequences: sequences.store, logger: logger)
        progress("webhook receiver on 127.0.0.1:\(provider.port); \(Self.replyingContacts) sequence contacts reply before their first step")
        let repliers = (0..<min(Self.replyingContacts, sequenceContacts)).map { DemoSequence.phone($0) }
        try await provider.contactWrites(repliers, text: "Thanks, I will call you instead")
        let replyDeadline = ContinuousClock.now + .seconds(30)
        while provider.sequencesStopped < repliers.count, ContinuousClock.now < replyDeadline {
            try await Task.sleep(for: .milliseconds(100))
        }

        let members = try (1...workers).map { index in
            try startWorker(
                name: "dev-worker-\(index)", bootstrap: cluster.bootstrapServers, producer: producer, topics: topics,
                policy: AntiSpamPolicy(optOuts: provider.optOuts, logger: logger, replies: provider.replies), logger: logger)
        }
        progress("\(workers) workers joining the group (the embedded cluster waits ~3 s for the first join)")

        var stopScene = StopScene(phone: Self.stopPhone(messages: messages), deviceId: deviceIds[0])
        let deadline = started + duration
        var lastLine = ContinuousClock.now
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(250))
            expected.formUnion(try await sequences.publishDue())
            let events = status.snapshot
            await provider.postReceipts(for: events)
            try await stopScene.advance(events: events, provider: provider, expected: &expected)
            let finals = Set(events.filter { $0.status.isFinal }.map(\.messageId))
            if ContinuousClock.now - lastLine >= .seconds(1) {
                lastLine = .now
                if let board {
                    var statusBoard = StatusBoard(rateWindow: 10)
                    for event in events { statusBoard.apply(event) }
                    board(StatusBoardRenderer.render(statusBoard.snapshot(now: Date()), maxDevices: 12) + (consoleLine.map { "\n" + $0 } ?? ""))
                } else {
                    progress(Self.progressLine(events: events, expected: expected.count, since: started))
                }
            }
            if sequences.isDone, stopScene.isDone, expected.isSubset(of: finals) { break }
        }
        // The last receipts (read follows delivered by one round).
        for _ in 0..<3 {
            await provider.postReceipts(for: status.snapshot)
            try await Task.sleep(for: .milliseconds(300))
        }
        for member in members { member.worker.shutdown() }
        for member in members { try await member.task.value }
        try await Task.sleep(for: .milliseconds(300))
        await provider.close()
        await status.close()
        if let consoleService {
            try? await Task.sleep(for: consoleLinger)
            await consoleService.stop()
        }
        await producer.close()

        let delays = (min: minDelay, sequenceMin: sequences.minimumDelay)
        let events = status.snapshot
        var summary = RunVerifier.summarize(
            events, expected: expected, wallSeconds: (ContinuousClock.now - started).seconds
        ) { event in event.sequenceId == nil ? delays.min : delays.sequenceMin }
        var board = StatusBoard()
        for event in events { board.apply(event) }
        let totals = board.snapshot(now: Date()).total.counts
        let afterStop = events.last { $0.messageId == StopScene.afterStopMessageId && $0.status.isFinal }
        summary.receipts = ReceiptSummary(
            accepted: totals.accepted, delivered: totals.reachedPhone, read: totals.read,
            deliveredRate: (totals.deliveredRate * 1000).rounded() / 1000, readRate: (totals.readRate * 1000).rounded() / 1000,
            receiptsPosted: provider.receiptsPosted, replies: repliers.count, sequencesStoppedByReplies: provider.sequencesStopped,
            optedOutPhone: stopScene.phone.map(PhoneNumber.masked), afterStopStatus: afterStop?.status.rawValue, afterStopReason: afterStop?.reason)
        return summary
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

    /// Sequence contacts who reply before their first step (their enrolments stop).
    static let replyingContacts = 3

    /// The campaign recipient who writes STOP once their message was sent (the first one).
    static func stopPhone(messages: Int) -> String? {
        messages > 0 ? "+6011\(String(format: "%08d", 10_000_000))" : nil
    }

    private func startWorker(
        name: String, bootstrap: String, producer: KafkaProducer, topics: TopicNames, policy: AntiSpamPolicy, logger: Logger
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
            policy: policy, logger: logger
        )
        return (worker, Task { try await worker.run() })
    }

    static func progressLine(events: [StatusEvent], expected: Int, since started: ContinuousClock.Instant) -> String {
        var latest: [String: MessageStatus] = [:]
        for event in events {
            // Receipts follow the worker's final `sent`: they move the message on.
            if let current = latest[event.messageId], current.isFinal,
               !(event.status == .delivered || event.status == .read || (event.status == .failed && current.isAcceptedByProvider)) { continue }
            latest[event.messageId] = event.status
        }
        let counts = Dictionary(grouping: latest.values, by: { $0 }).mapValues(\.count)
        let sent = counts[.sent, default: 0] + counts[.delivered, default: 0] + counts[.read, default: 0]
        let elapsed = (ContinuousClock.now - started).seconds
        let parts: [String] = [
            "sent \(sent)/\(expected)", "delivered \(counts[.delivered, default: 0] + counts[.read, default: 0])", "read \(counts[.read, default: 0])", "failed \(counts[.failed, default: 0])", "retrying \(counts[.retrying, default: 0])",
            "expired \(counts[.expired, default: 0])", "queued \(counts[.queued, default: 0])",
        ]
        return String(format: "[%5.1fs] ", elapsed) + parts.joined(separator: " · ")
    }
}

public enum DevRunError: Error, CustomStringConvertible {
    case publishFailed(Int)
    case webhookRefused(Int)

    public var description: String {
        switch self {
        case .publishFailed(let count): return "\(count) demo records were not acknowledged by the embedded cluster"
        case .webhookRefused(let status): return "the demo webhook receiver answered HTTP \(status)"
        }
    }
}

/// One contact writes STOP after their campaign message was sent; once the opt-out is known, one
/// more message to them is published and must come back `skipped` (`opt_out`).
struct StopScene {
    static let afterStopMessageId = "demo-after-stop"
    let phone: String?
    let deviceId: String
    private var wrote = false
    private var published = false

    init(phone: String?, deviceId: String) {
        self.phone = phone
        self.deviceId = deviceId
    }

    var isDone: Bool { phone == nil || published }

    mutating func advance(events: [StatusEvent], provider: DemoProvider, expected: inout Set<String>) async throws {
        guard let phone, !published else { return }
        if !wrote, events.contains(where: { $0.recipientPhone == phone && $0.status.isFinal }) {
            try await provider.contactWrites([phone], text: "STOP")
            wrote = true
        }
        guard wrote, provider.optOuts.contains(phone) else { return }
        let message = BroadcastMessage(
            id: Self.afterStopMessageId, userId: "demo-user", deviceId: deviceId, source: .api,
            recipient: .init(phone: phone), content: .init(type: .text, text: "One more offer"),
            delay: .init(minSeconds: 0, maxSeconds: 0), scheduledAt: Date(timeIntervalSinceNow: -1), createdAt: Date())
        try await provider.publish(message)
        expected.insert(message.id)
        published = true
    }
}
