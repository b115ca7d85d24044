import BroadcastModel
import Foundation
import Kafka
import Logging
import Senders
import Synchronization
import WorkerRuntime

/// `broadcast bench worker`: the device worker measured against its goals, each scenario on a fresh
/// embedded cluster.
public struct WorkerBenchmark: Sendable {
    public var throughputMessages = 200_000
    public var holDevices = 5_000
    public var holMessagesPerDevice = 10
    public var latencyRate = 1_000
    public var latencySeconds = 10
    public var backlogMessages = 1_000_000
    public var sleepingDevices = 24
    public var sleepingMessages = 30_000
    public var awakeDevices = 500
    public var awakeMessagesPerDevice = 20
    /// The `broadcast` executable, for the memory scenario (the worker runs in a process of its own).
    public var executable: String?

    public init() {}

    public struct Result: Codable, Sendable {
        public var throughput: Throughput?
        public var headOfLine: HeadOfLine?
        public var latency: Latency?
        public var memory: Memory?
        public var sleepers: Sleepers?
    }

    public struct Throughput: Codable, Sendable {
        public var messages: Int
        public var workerPerSecond: Double
        public var relayPerSecond: Double
        public var ratio: Double
        public var goal = 0.5
        public var note = "worker: decode, validate, lane, simulated instant send, processing + sent status events, commit; relay: consume a batch, produce one record per message, commit"
    }

    public struct HeadOfLine: Codable, Sendable {
        public var devices: Int
        public var messagesPerDevice: Int
        public var achievedPerSecond: Double
        public var idealPerSecond: Double
        public var ratio: Double
        public var goal = 0.9
    }

    public struct Latency: Codable, Sendable {
        public var ratePerSecond: Int
        public var messages: Int
        public var p50Milliseconds: Double
        public var p99Milliseconds: Double
        /// A plain consumer of the messages topic in the same run (publish → record in hand): the
        /// part of the latency the cluster and client give before any worker logic.
        public var arrivalP50Milliseconds: Double
        public var arrivalP99Milliseconds: Double
        public var goalP99Milliseconds = 20.0
    }

    public struct Memory: Codable, Sendable {
        public var backlog: Int
        public var partitions: Int
        public var peakResidentMegabytes: Double
        public var goalMegabytes = 300.0
        public var sent: Int
    }

    public struct Sleepers: Codable, Sendable {
        public var sleepingDevices: Int
        public var sleepingMessages: Int
        public var awakeDevices: Int
        public var awakeMessages: Int
        public var gapSeconds = 1.0
        public var awakePerSecond: Double
        public var idealPerSecond: Double
        public var ratio: Double
        public var goal = 0.9
        public var peakResidentMegabytes: Double
        /// Longest commit metadata (done offsets above the commit point) the group holds at the end.
        public var commitMetadataBytes: Int
        public var committedRecords: Int64
        public var publishedRecords: Int
        /// The same run with parking off (`--park-after-seconds 0`): awake messages sent in `parkingOffSeconds`.
        public var parkingOffAwakeSent: Int
        public var parkingOffSeconds: Int
        public var note = "one worker process, default settings, device state on; the sleepers' messages are scheduled an hour ahead and published first"
    }

    public enum Scenario: String, CaseIterable, Sendable { case throughput, headOfLine = "hol", latency, memory, sleepers }

    public func run(_ scenarios: [Scenario], logger: Logger) async throws -> Result {
        var result = Result()
        for scenario in scenarios {
            switch scenario {
            case .throughput: result.throughput = try await measureThroughput(logger: logger)
            case .headOfLine: result.headOfLine = try await measureHeadOfLine(logger: logger)
            case .latency: result.latency = try await measureLatency(logger: logger)
            case .memory: result.memory = try await measureMemory(logger: logger)
            case .sleepers: result.sleepers = try await measureSleepers(logger: logger)
            }
        }
        return result
    }

    // MARK: Scenarios

    private func measureThroughput(logger: Logger) async throws -> Throughput {
        // The embedded cluster keeps about 5 MiB per partition: enough partitions to hold the run.
        let bench = try BenchCluster(partitions: 64, logger: logger)
        defer { bench.cluster.shutDown() }
        try await bench.publish(count: throughputMessages, devices: 2_000) { _ in (0, 0) }
        let worker = try await bench.runWorker(until: throughputMessages, sender: SimulatedSender(configuration: .instant), logger: logger).perSecond
        let relay = try await bench.relay(count: throughputMessages, logger: logger)
        await bench.close()
        return Throughput(
            messages: throughputMessages, workerPerSecond: rounded(worker, places: 0), relayPerSecond: rounded(relay, places: 0),
            ratio: rounded(worker / relay)
        )
    }

    private func measureHeadOfLine(logger: Logger) async throws -> HeadOfLine {
        let bench = try BenchCluster(partitions: 12, logger: logger)
        defer { bench.cluster.shutDown() }
        let total = holDevices * holMessagesPerDevice
        try await bench.publish(count: total, devices: holDevices) { _ in (1, 1) }
        let status = try bench.statusTimes()
        _ = try await bench.runWorker(until: total, sender: SimulatedSender(configuration: .instant), logger: logger)
        try await status.waitFor(sent: total, timeout: .seconds(60))
        let times = status.sentTimes.sorted()
        await status.close()
        await bench.close()
        // Ten rounds, one second apart: the sends after the first round over the time they took.
        let span = (times.last ?? 0) - (times.first ?? 0)
        let achieved = span > 0 ? Double(total - holDevices) / span : 0
        let ideal = Double(holDevices)
        return HeadOfLine(
            devices: holDevices, messagesPerDevice: holMessagesPerDevice, achievedPerSecond: rounded(achieved, places: 0),
            idealPerSecond: ideal, ratio: rounded(achieved / ideal)
        )
    }

    private func measureLatency(logger: Logger) async throws -> Latency {
        let bench = try BenchCluster(partitions: 12, logger: logger)
        defer { bench.cluster.shutDown() }
        let status = try bench.statusTimes()
        let arrivals = try bench.arrivalTimes()
        let total = latencyRate * latencySeconds
        let (readiness, ready) = AsyncStream<Void>.makeStream()
        let workerTask = Task {
            try await bench.runWorker(until: total, sender: SimulatedSender(configuration: .instant), onReady: { ready.finish() }, logger: logger)
        }
        // The clock starts once the worker owns its partitions and has fetched for a moment: a
        // worker's join and takeover take seconds on the embedded cluster, and they are not what
        // this measures (the first sends after a takeover are paced in production anyway).
        for await _ in readiness {}
        try await Task.sleep(for: .seconds(1))
        try await bench.publishPaced(count: total, devices: 1_000, perSecond: latencyRate)
        _ = try await workerTask.value
        try await status.waitFor(sent: total, timeout: .seconds(30))
        try await arrivals.waitFor(sent: total, timeout: .seconds(30))
        let latencies = status.sentLatencies.sorted()
        let arrived = arrivals.sentLatencies.sorted()
        await status.close()
        await arrivals.close()
        await bench.close()
        func milliseconds(_ values: [Double], _ fraction: Double) -> Double {
            rounded((RunPercentile.of(values, fraction) ?? 0) * 1000, places: 1)
        }
        return Latency(
            ratePerSecond: latencyRate, messages: total,
            p50Milliseconds: milliseconds(latencies, 0.5), p99Milliseconds: milliseconds(latencies, 0.99),
            arrivalP50Milliseconds: milliseconds(arrived, 0.5), arrivalP99Milliseconds: milliseconds(arrived, 0.99)
        )
    }

    private func measureMemory(logger: Logger) async throws -> Memory {
        guard let executable = executable ?? which("broadcast") else { throw BenchmarkError.missingTool("the broadcast executable") }
        let bench = try BenchCluster(partitions: 128, logger: logger)
        defer { bench.cluster.shutDown() }
        try await bench.publish(count: backlogMessages, devices: 20_000) { _ in (0, 0) }
        let status = try bench.statusTimes()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "worker", "--bootstrap-servers", bench.cluster.bootstrapServers, "--topic-prefix", bench.topics.prefix,
            "--sim-latency-ms", "0", "--log-level", "warning", "--group", "bench-memory",
        ]
        try process.run()
        var peak = 0.0
        let deadline = ContinuousClock.now + .seconds(600)
        while status.sentCount < backlogMessages, ContinuousClock.now < deadline, process.isRunning {
            try await Task.sleep(for: .milliseconds(500))
            peak = max(peak, peakResidentMegabytes(of: process.processIdentifier))
        }
        peak = max(peak, peakResidentMegabytes(of: process.processIdentifier))
        process.terminate()
        process.waitUntilExit()
        let sent = status.sentCount
        await status.close()
        await bench.close()
        return Memory(backlog: backlogMessages, partitions: 128, peakResidentMegabytes: rounded(peak, places: 1), sent: sent)
    }
}

extension WorkerBenchmark {
    private func measureSleepers(logger: Logger) async throws -> Sleepers {
        guard let executable = executable ?? which("broadcast") else { throw BenchmarkError.missingTool("the broadcast executable") }
        let on = try await runSleepers(executable: executable, parkAfter: 60, awakeTimeout: .seconds(180), logger: logger)
        let offSeconds = 45
        let off = try await runSleepers(executable: executable, parkAfter: 0, awakeTimeout: .seconds(offSeconds), logger: logger)
        let awake = awakeDevices * awakeMessagesPerDevice
        // Rounds one second apart: the sends after the first round over the time they took.
        let span = (on.times.last ?? 0) - (on.times.first ?? 0)
        let achieved = on.times.count == awake && span > 0 ? Double(awake - awakeDevices) / span : 0
        let ideal = Double(awakeDevices)
        return Sleepers(
            sleepingDevices: sleepingDevices, sleepingMessages: sleepingMessages, awakeDevices: awakeDevices, awakeMessages: awake,
            awakePerSecond: rounded(achieved, places: 1), idealPerSecond: ideal, ratio: rounded(achieved / ideal),
            peakResidentMegabytes: rounded(on.peak, places: 1), commitMetadataBytes: on.metadataBytes,
            committedRecords: on.committed, publishedRecords: sleepingMessages + awake,
            parkingOffAwakeSent: off.times.count, parkingOffSeconds: offSeconds)
    }

    private func runSleepers(
        executable: String, parkAfter: Int, awakeTimeout: Duration, logger: Logger
    ) async throws -> (times: [Double], peak: Double, metadataBytes: Int, committed: Int64) {
        let partitions = 48
        let bench = try BenchCluster(partitions: partitions, extraTopics: [TopicNames(prefix: "bench.").devices], logger: logger)
        defer { bench.cluster.shutDown() }
        let now = Date()
        let sleeping = (0..<sleepingMessages).map { index in
            var message = bench.message(index, devices: sleepingDevices, delay: (0, 0), at: now, prefix: "sleeper-")
            message.scheduledAt = now.addingTimeInterval(3_600)
            return message
        }
        try await bench.publish(sleeping)
        let awake = awakeDevices * awakeMessagesPerDevice
        try await bench.publish((0..<awake).map { bench.message(sleepingMessages + $0, devices: awakeDevices, delay: (1, 1), at: now, prefix: "awake-") })
        let status = try bench.statusTimes()
        let group = "bench-sleepers-\(UUID().uuidString.prefix(6))"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "worker", "--bootstrap-servers", bench.cluster.bootstrapServers, "--topic-prefix", bench.topics.prefix,
            "--sim-latency-ms", "0", "--log-level", "error", "--group", group, "--device-state", "on",
            "--park-after-seconds", String(parkAfter),
        ]
        try process.run()
        var peak = 0.0
        let deadline = ContinuousClock.now + awakeTimeout
        while status.sentCount < awake, ContinuousClock.now < deadline, process.isRunning {
            try await Task.sleep(for: .milliseconds(250))
            peak = max(peak, peakResidentMegabytes(of: process.processIdentifier))
        }
        // Commits run every 200 ms: give the last ones a moment, then read what the group holds.
        try await Task.sleep(for: .seconds(2))
        peak = max(peak, peakResidentMegabytes(of: process.processIdentifier))
        let reader = try KafkaConsumer(configuration: ConsumerConfiguration(bootstrapServers: bench.cluster.bootstrapServers, groupId: group), logger: logger)
        let committed = (try? await reader.committed((0..<Int32(partitions)).map { TopicPartition(topic: bench.topics.messages, partition: $0) })) ?? []
        await reader.close()
        process.terminate()
        process.waitUntilExit()
        let times = status.sentTimes.sorted()
        await status.close()
        await bench.close()
        return (times, peak, committed.map { ($0.metadata ?? "").utf8.count }.max() ?? 0, committed.reduce(0) { $0 + max(0, $1.offset) })
    }
}

/// VmHWM (peak resident set) of a process, from /proc.
func peakResidentMegabytes(of pid: Int32) -> Double {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kilobytes / 1024
}

enum RunPercentile {
    static func of(_ sorted: [Double], _ fraction: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * fraction).rounded()))]
    }
}

/// Scale-out: one, two and three worker processes on a sender with 50 ms latency and per-device
/// pacing, each count on a fresh cluster; sends per second and the ratio to linear.
public struct ScaleOutBenchmark: Sendable {
    /// Enough devices that pacing (devices ÷ gap = 40,000 sends/s) is not what limits one worker.
    public var devices = 20_000
    public var messagesPerDevice = 10
    public var gapSeconds = 0.5
    public var executable: String

    public init(executable: String) {
        self.executable = executable
    }

    public struct Point: Codable, Sendable {
        public var workers: Int
        public var sentPerSecond: Double
        public var ratioToLinear: Double
    }

    public struct Result: Codable, Sendable {
        public var devices: Int
        public var messagesPerDevice: Int
        public var senderLatencyMilliseconds = 50
        public var gapSeconds: Double
        public var points: [Point]
        public var note = "pacing allows devices/gap sends per second; worker processes share this machine's 2 cores with each other and with the embedded cluster; timed from the tenth of sends onwards (after the joins)"
    }

    public func run(counts: [Int] = [1, 2, 3], logger: Logger) async throws -> Result {
        var points: [Point] = []
        for count in counts {
            let rate = try await measure(workers: count, logger: logger)
            let base = points.first.map { $0.sentPerSecond / Double($0.workers) } ?? rate / Double(count)
            points.append(Point(workers: count, sentPerSecond: rounded(rate, places: 0), ratioToLinear: rounded(rate / (base * Double(count)))))
        }
        return Result(devices: devices, messagesPerDevice: messagesPerDevice, gapSeconds: gapSeconds, points: points)
    }

    private func measure(workers: Int, logger: Logger) async throws -> Double {
        // 200,000 records of ~450 bytes: 48 partitions stay under the mock's ~5 MiB per partition.
        let bench = try BenchCluster(partitions: 48, logger: logger)
        defer { bench.cluster.shutDown() }
        let total = devices * messagesPerDevice
        try await bench.publish(count: total, devices: devices) { _ in (gapSeconds, gapSeconds) }
        let status = try bench.statusTimes()
        let processes = try (0..<workers).map { index -> Process in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = [
                "worker", "--bootstrap-servers", bench.cluster.bootstrapServers, "--topic-prefix", bench.topics.prefix,
                "--sim-latency-ms", "50", "--log-level", "error", "--group", "bench-scaleout", "--worker-name", "scale-\(index)",
                "--session-timeout-ms", "6000",
            ]
            try process.run()
            return process
        }
        try await status.waitFor(sent: total, timeout: .seconds(300))
        let times = status.sentTimes.sorted()
        for process in processes {
            process.terminate()
            process.waitUntilExit()
        }
        await status.close()
        await bench.close()
        // From the time all workers send (the last join) to the end: skip the first tenth of sends.
        let start = times[min(times.count - 1, times.count / 10)]
        let span = (times.last ?? start) - start
        return span > 0 ? Double(times.count - times.count / 10) / span : 0
    }
}
