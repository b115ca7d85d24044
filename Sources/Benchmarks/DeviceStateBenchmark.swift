import BroadcastModel
import DevicePolicies
import Foundation
import Kafka
import Logging
import Senders
import Synchronization
import WorkerRuntime

/// `broadcast bench devicestate`: what keeping devices' safety state on `broadcast.devices` costs.
///
/// - Throughput: the same backlog sent by a worker with the anti-spam policy and the state topic
///   off, then by one with it on (a group of its own each, one cluster, one run).
/// - Load: `loadDevices` devices' state (an hour of sends each) is on the topic; a worker with the
///   state on starts: how long its assignment waits for the state, and from assignment to its
///   first send.
public struct DeviceStateBenchmark: Sendable {
    public var messages = 200_000
    public var devices = 2_000
    public var loadDevices = 10_000

    public init() {}

    public struct Result: Codable, Sendable {
        public var messages: Int
        public var devices: Int
        public var offPerSecond: Double
        public var onPerSecond: Double
        public var ratio: Double
        public var goalRatio = 0.9
        public var stateRecordsRead: Int
        public var loadDevices: Int
        public var loadRecordBytes: Int
        public var assignmentWaitSeconds: Double
        public var assignmentToFirstSendSeconds: Double
        public var goalAssignmentToFirstSendSeconds = 2.0
        public var note = "both workers run AntiSpamPolicy (no caps) and the instant simulated sender; 'on' also writes one state record per send and reads the whole state topic"
    }

    public func run(logger: Logger) async throws -> Result {
        let (off, on, written) = try await measureThroughput(logger: logger)
        let (bytes, wait, firstSend) = try await measureLoad(logger: logger)
        return Result(
            messages: messages, devices: devices, offPerSecond: rounded(off, places: 0), onPerSecond: rounded(on, places: 0),
            ratio: rounded(on / max(off, 1)), stateRecordsRead: written, loadDevices: loadDevices, loadRecordBytes: bytes,
            assignmentWaitSeconds: rounded(wait, places: 3), assignmentToFirstSendSeconds: rounded(firstSend, places: 3))
    }

    private func measureThroughput(logger: Logger) async throws -> (off: Double, on: Double, written: Int) {
        let bench = try BenchCluster(partitions: 64, extraTopics: [TopicNames(prefix: "bench.").devices], logger: logger)
        defer { bench.cluster.shutDown() }
        try await bench.publish(count: messages, devices: devices) { _ in (0, 0) }
        let off = try await bench.runWorker(
            until: messages, sender: SimulatedSender(configuration: .instant), policy: AntiSpamPolicy(), logger: logger)
        let policy = AntiSpamPolicy()
        let follower = try DeviceStateFollower(
            client: KafkaClientOptions(bootstrapServers: bench.cluster.bootstrapServers), topic: bench.topics.devices,
            policy: policy, writer: "bench-worker", logger: logger)
        try follower.start()
        let on = try await bench.runWorker(
            until: messages, sender: SimulatedSender(configuration: .instant), policy: policy, deviceState: follower, logger: logger)
        let written = follower.recordsRead
        await follower.close()
        await bench.close()
        return (off, on, written)
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
