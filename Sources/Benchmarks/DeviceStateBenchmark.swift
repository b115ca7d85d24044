import BroadcastModel
import DevicePolicies
import Foundation
import HTTPSenders
import Kafka
import Logging
import Senders
import Synchronization
import WorkerRuntime

/// `broadcast bench devicestate`: what keeping devices' safety state on `broadcast.devices` costs.
///
/// - Throughput: the same backlog sent by a worker with the anti-spam policy and the state topic
///   off and by one with it on (a group of its own each, one cluster, one run), in `rounds` rounds
///   whose order alternates (off-on, on-off, ...): the ratio is the median of the rounds' ratios,
///   since a single pair drifts by about a tenth either way (the off runs' spread shows how much).
///   Each run also reports the process's CPU time per message, which a neighbour stealing cycles
///   distorts far less than the rate.
/// - Budget: the same backlog once more with every device a number of one business whose budget
///   never fills, so every send first claims its recipient and waits for the verdict.
/// - Load: `loadDevices` devices' state (an hour of sends each) is on the topic; a worker with the
///   state on starts: how long its assignment waits for the state, and from assignment to its
///   first send.
public struct DeviceStateBenchmark: Sendable {
    public var messages = 100_000
    public var devices = 2_000
    public var rounds = 5
    public var loadDevices = 10_000

    public init() {}

    public struct Result: Codable, Sendable {
        public var messages: Int
        public var devices: Int
        public var rounds: Int
        /// Medians over the rounds.
        public var offPerSecond: Double
        public var onPerSecond: Double
        /// The median of the rounds' on/off ratios.
        public var ratio: Double
        public var roundRatios: [Double]
        /// Every run's rate, in the order the rounds ran.
        public var offRuns: [Double]
        public var onRuns: [Double]
        /// CPU time of the whole process per message sent (medians, microseconds), and off over on:
        /// the cost of the state in the figure a noisy machine distorts least.
        public var offCPUMicrosecondsPerMessage: Double
        public var onCPUMicrosecondsPerMessage: Double
        public var cpuRatio: Double
        /// The fastest off run over the slowest: how far identical runs drift apart here.
        public var offSpread: Double
        public var goalRatio = 0.9
        /// State on, and every send claims its recipient under one business's budget first.
        public var budgetPerSecond: Double
        public var budgetRatioToOn: Double
        public var stateRecordsRead: Int
        public var loadDevices: Int
        public var loadRecordBytes: Int
        public var assignmentWaitSeconds: Double
        public var assignmentToFirstSendSeconds: Double
        public var goalAssignmentToFirstSendSeconds = 2.0
        public var note = "all runs use AntiSpamPolicy (no caps) and the instant simulated sender; each round runs off and on once, in alternating order; 'on' also writes, at each commit (200 ms), one state record per device that sent since the one before, and reads the whole state topic; 'budget' also claims every send's recipient on one partition and waits to read the claim back"
    }

    public func run(logger: Logger) async throws -> Result {
        let (offCosts, onCosts, budget, written) = try await measureThroughput(logger: logger)
        let (bytes, wait, firstSend) = try await measureLoad(logger: logger)
        let (offRuns, onRuns) = (offCosts.map(\.perSecond), onCosts.map(\.perSecond))
        let (off, on) = (median(offRuns), median(onRuns))
        let ratios = Swift.zip(onRuns, offRuns).map { $0 / max($1, 1) }
        let (offCPU, onCPU) = (median(offCosts.map(\.cpuMicrosecondsPerMessage)), median(onCosts.map(\.cpuMicrosecondsPerMessage)))
        return Result(
            messages: messages, devices: devices, rounds: offRuns.count, offPerSecond: rounded(off, places: 0),
            onPerSecond: rounded(on, places: 0), ratio: rounded(median(ratios)), roundRatios: ratios.map { rounded($0) },
            offRuns: offRuns.map { rounded($0, places: 0) }, onRuns: onRuns.map { rounded($0, places: 0) },
            offCPUMicrosecondsPerMessage: rounded(offCPU, places: 1), onCPUMicrosecondsPerMessage: rounded(onCPU, places: 1),
            cpuRatio: rounded(offCPU / max(onCPU, 1)),
            offSpread: rounded((offRuns.max() ?? 0) / max(offRuns.min() ?? 1, 1)), budgetPerSecond: rounded(budget, places: 0),
            budgetRatioToOn: rounded(budget / max(on, 1)), stateRecordsRead: written, loadDevices: loadDevices, loadRecordBytes: bytes,
            assignmentWaitSeconds: rounded(wait, places: 3), assignmentToFirstSendSeconds: rounded(firstSend, places: 3))
    }

    private func measureThroughput(
        logger: Logger
    ) async throws -> (off: [BenchCluster.WorkerRun], on: [BenchCluster.WorkerRun], budget: Double, written: Int) {
        let bench = try BenchCluster(partitions: 64, extraTopics: [TopicNames(prefix: "bench.").devices], logger: logger)
        defer { bench.cluster.shutDown() }
        try await bench.publish(count: messages, devices: devices) { _ in (0, 0) }
        func withoutState() async throws -> BenchCluster.WorkerRun {
            try await bench.runWorker(
                until: messages, sender: SimulatedSender(configuration: .instant), policy: AntiSpamPolicy(), logger: logger)
        }
        var written = 0
        func withState(budgets: RecipientBudgets?) async throws -> BenchCluster.WorkerRun {
            let policy = AntiSpamPolicy()
            let follower = try DeviceStateFollower(
                client: KafkaClientOptions(bootstrapServers: bench.cluster.bootstrapServers), topic: bench.topics.devices,
                policy: policy, writer: "bench-worker", budgets: budgets, logger: logger)
            try follower.start()
            let run = try await bench.runWorker(
                until: messages, sender: SimulatedSender(configuration: .instant), policy: policy, deviceState: follower, logger: logger)
            written = written == 0 ? follower.recordsRead : written
            await follower.close()
            return run
        }
        // Every run reads the same backlog under a group of its own; an 'on' run's follower first
        // reads the records earlier 'on' runs wrote, as a worker joining later would.
        var (off, on): ([BenchCluster.WorkerRun], [BenchCluster.WorkerRun]) = ([], [])
        for round in 0..<max(1, rounds) {
            let offFirst = round.isMultiple(of: 2)
            if offFirst { off.append(try await withoutState()) }
            on.append(try await withState(budgets: nil))
            if !offFirst { off.append(try await withoutState()) }
        }
        // One business for every device, a budget far above the backlog: each send claims and waits.
        let file = DevicesFile(
            devices: (0..<devices).map { DeviceConfiguration(id: "dev-\($0)", sender: .simulated, business: "bench-waba") },
            businesses: [BusinessAccount(id: "bench-waba", uniqueRecipientsPerDay: 10 * messages)])
        let budget = try await withState(budgets: RecipientBudgets(devicesFile: file, topic: bench.topics.devices, writer: "bench-worker"))
        await bench.close()
        return (off, on, budget.perSecond, written)
    }

    private func measureLoad(logger: Logger) async throws -> (bytes: Int, wait: Double, firstSend: Double) {
        let bench = try BenchCluster(partitions: 12, extraTopics: [TopicNames(prefix: "bench.").devices], logger: logger)
        defer { bench.cluster.shutDown() }
        // An hour of sends per device, the last one an hour ago: nothing in the state holds a send.
        let now = Date()
        let lastMinute = DeviceStateRecord.minute(of: now) - 61
        var bytes = 0
        let records = (0..<loadDevices).map { index -> ProducerRecord in
            let device = "dev-\(index)"
            let state = DeviceStateRecord(
                deviceId: device, updatedAt: now, writer: "bench-previous",
                sendMinutes: (0..<60).map { .init(minute: lastMinute - 59 + Int64($0), count: 1) },
                firstSendAt: now.addingTimeInterval(-30 * 86_400), lastSendAt: now.addingTimeInterval(-3_660))
            let value = state.encoded()
            bytes = value.count
            return ProducerRecord(topic: bench.topics.devices, key: Array(device.utf8), value: value)
        }
        for result in try await bench.producer.send(records) { _ = try result.get() }
        try await bench.publish(count: 1_000, devices: 1_000) { _ in (0, 0) }
        let policy = AntiSpamPolicy()
        let follower = try DeviceStateFollower(
            client: KafkaClientOptions(bootstrapServers: bench.cluster.bootstrapServers), topic: bench.topics.devices,
            policy: policy, writer: "bench-worker", logger: logger)
        try follower.start()
        let firstSend = Mutex<ContinuousClock.Instant?>(nil)
        _ = try await bench.runWorker(
            until: 1_000, sender: SimulatedSender(configuration: .instant), policy: policy, deviceState: follower,
            onFirstSend: { firstSend.withLock { $0 = .now } }, logger: logger)
        let wait = follower.lastCatchUpWait ?? .zero
        let assigned = follower.lastCatchUpStarted
        await follower.close()
        await bench.close()
        let toFirstSend = zip(assigned, firstSend.withLock { $0 }).map { ($0.1 - $0.0).seconds } ?? -1
        return (bytes, wait.seconds, toFirstSend)
    }
}

private func zip<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}
