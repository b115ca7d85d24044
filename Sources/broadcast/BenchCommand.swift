import ArgumentParser
import Benchmarks
import BroadcastModel
import Publishing
import Foundation
import Logging

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks; each prints one JSON object on standard output.",
        subcommands: [
            AllBenchCommand.self, KafkaBenchCommand.self, CodecBenchCommand.self, PublishBenchCommand.self,
            WorkerBenchCommand.self, ScaleOutBenchCommand.self, WebhookBenchCommand.self, ConsoleBenchCommand.self,
            DeviceStateBenchCommand.self,
        ]
    )
}

/// Prints a benchmark result as one JSON line.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    FileHandle.standardOutput.write(try encoder.encode(value) + Data("\n".utf8))
}

struct KafkaBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka",
        abstract: "Produce and consume keyed records through the binding and through kcat on one embedded cluster."
    )

    @Option(help: "Records to produce and consume.") var records = 1_000_000
    @Option(help: "Bytes per record value.") var valueSize = 300
    @Option(help: "Partitions of the benchmark topics (the embedded cluster keeps ~5 MiB per partition).") var partitions = 128
    @Option(help: "Path to kcat (default: found on PATH).") var kcat: String?
    @Option(help: "Rounds; medians are reported.") var rounds = 3
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        var benchmark = KafkaBenchmark()
        benchmark.records = records
        benchmark.valueSize = valueSize
        benchmark.partitions = partitions
        benchmark.kcatPath = kcat
        benchmark.rounds = rounds
        try printJSON(try await benchmark.run(logger: Logger(label: "broadcast.bench")))
    }
}

struct WorkerBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "The device worker: throughput against a raw relay, head-of-line, latency, memory with a backlog."
    )

    @Option(help: "Scenarios: throughput, hol, latency, memory, sleepers (repeatable; default all).")
    var scenario: [String] = []
    @Option(help: "Messages of the throughput scenario.") var messages = 200_000
    @Option(help: "Records of the memory scenario's backlog.") var backlog = 1_000_000
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        LoggingOptions(level: logging.level ?? "warning").bootstrap()
        let chosen = try (scenario.isEmpty ? WorkerBenchmark.Scenario.allCases.map(\.rawValue) : scenario).map { name in
            guard let value = WorkerBenchmark.Scenario(rawValue: name) else {
                throw ValidationError("unknown scenario '\(name)'; use \(WorkerBenchmark.Scenario.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return value
        }
        var benchmark = WorkerBenchmark()
        benchmark.throughputMessages = messages
        benchmark.backlogMessages = backlog
        benchmark.executable = currentExecutable()
        try printJSON(try await benchmark.run(chosen, logger: Logger(label: "broadcast.bench")))
    }
}

struct DeviceStateBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devicestate",
        abstract: "The device-state topic: worker throughput with it on against off, and assignment to first send with 10,000 devices' state."
    )

    @Option(help: "Messages each run of the throughput comparison sends.") var messages = 100_000
    @Option(help: "Rounds of the comparison (one run off and one on each, in alternating order).") var rounds = 5
    @Option(name: .customLong("load-devices"), help: "Devices whose state is on the topic before the worker starts.") var loadDevices = 10_000
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        LoggingOptions(level: logging.level ?? "warning").bootstrap()
        var benchmark = DeviceStateBenchmark()
        benchmark.messages = messages
        benchmark.rounds = rounds
        benchmark.loadDevices = loadDevices
        try printJSON(try await benchmark.run(logger: Logger(label: "broadcast.bench")))
    }
}

struct WebhookBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract: "Signed status webhooks (100 per POST) verified and published per second, against the raw produce rate."
    )

    @Option(help: "Statuses to post.") var statuses = 200_000
    @Option(name: .customLong("per-post"), help: "Statuses per POST (Meta batches up to 100).") var perPost = 100
    @Option(help: "Concurrent HTTP connections.") var connections = 8
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        LoggingOptions(level: logging.level ?? "warning").bootstrap()
        var benchmark = WebhookBenchmark()
        benchmark.statuses = statuses
        benchmark.perPost = max(1, perPost)
        benchmark.connections = max(1, connections)
        try printJSON(try await benchmark.run(logger: Logger(label: "broadcast.bench")))
    }
}

struct CodecBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "codec", abstract: "Encode and decode a typical BroadcastMessage: records per second.")

    @Option(help: "Records encoded and decoded.") var records = 200_000

    func run() async throws {
        _ = CodecBenchmark.run(records: min(records, 20_000))  // warm-up
        try printJSON(CodecBenchmark.run(records: records))
    }
}

struct ScaleOutBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scaleout",
        abstract: "One, two and three worker processes on a 50 ms sender with pacing: sends per second and the ratio to linear."
    )

    @Option(help: "Devices.") var devices = 20_000
    @Option(help: "Messages per device.") var messagesPerDevice = 10
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        LoggingOptions(level: logging.level ?? "warning").bootstrap()
        var benchmark = ScaleOutBenchmark(executable: currentExecutable())
        benchmark.devices = devices
        benchmark.messagesPerDevice = messagesPerDevice
        try printJSON(try await benchmark.run(logger: Logger(label: "broadcast.bench")))
    }
}

/// The path of this very executable, for benchmarks that start workers as processes.
func currentExecutable() -> String {
    URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
}

/// Every suite in one run: one JSON object on standard output and a Markdown table.
struct AllBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "all", abstract: "Run every benchmark; one JSON object and a Markdown table.")

    @Option(help: "Where to write the Markdown table.") var markdown = "bench-out/benchmarks.md"
    @Option(help: "Rounds of the kafka benchmark.") var kafkaRounds = 3
    @OptionGroup var logging: LoggingOptions

    struct Report: Codable {
        var kafka: KafkaBenchmark.Result
        var codec: CodecBenchmarkResult
        var publish: PublishBenchmark.Result
        var worker: WorkerBenchmark.Result
        var scaleOut: ScaleOutBenchmark.Result
    }

    func run() async throws {
        LoggingOptions(level: logging.level ?? "error").bootstrap()
        let logger = Logger(label: "broadcast.bench")
        var kafka = KafkaBenchmark()
        kafka.rounds = kafkaRounds
        _ = CodecBenchmark.run(records: 20_000)
        var worker = WorkerBenchmark()
        worker.executable = currentExecutable()
        let report = Report(
            kafka: try await kafka.run(logger: logger),
            codec: CodecBenchmark.run(records: 200_000),
            publish: try await PublishBenchmark.run(logger: logger),
            worker: try await worker.run(WorkerBenchmark.Scenario.allCases, logger: logger),
            scaleOut: try await ScaleOutBenchmark(executable: currentExecutable()).run(logger: logger)
        )
        try printJSON(report)
        let file = URL(fileURLWithPath: markdown)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try table(report).write(to: file, atomically: true, encoding: .utf8)
        FileHandle.standardError.write(Data("wrote \(markdown)\n".utf8))
    }

    private func table(_ report: Report) -> String {
        func number(_ value: Double?) -> String { value.map { String(format: "%.0f", $0) } ?? "n/a" }
        func ratio(_ value: Double?) -> String { value.map { String(format: "%.2f×", $0) } ?? "n/a" }
        var rows = [
            "| measure | result | against | goal |",
            "| --- | --- | --- | --- |",
            "| binding produce, msgs/s | \(number(report.kafka.bindingProducePerSecond)) | kcat \(number(report.kafka.kcatProducePerSecond)) = \(ratio(report.kafka.produceRatio)) | ≥ 0.9× |",
            "| binding consume, msgs/s | \(number(report.kafka.bindingConsumePerSecond)) | kcat \(number(report.kafka.kcatConsumePerSecond)) = \(ratio(report.kafka.consumeRatio)) | ≥ 0.9× |",
            "| codec encode / batch encode / decode, records/s | \(number(report.codec.encodePerSecond)) / \(number(report.codec.batchEncodePerSecond)) / \(number(report.codec.decodePerSecond)) | Foundation decode \(number(report.codec.foundationDecodePerSecond)) | cheap |",
            "| campaign publish, records/s | \(number(report.publish.campaignRecordsPerSecond)) | raw produce \(number(report.publish.rawRecordsPerSecond)) = \(ratio(report.publish.ratio)) | ≥ 0.5× |",
        ]
        if let value = report.worker.throughput {
            rows.append("| worker throughput, msgs/s | \(number(value.workerPerSecond)) | relay \(number(value.relayPerSecond)) = \(ratio(value.ratio)) | ≥ 0.5× |")
        }
        if let value = report.worker.headOfLine {
            rows.append("| head-of-line, 5,000 devices × 1 s, sends/s | \(number(value.achievedPerSecond)) | ideal \(number(value.idealPerSecond)) = \(ratio(value.ratio)) | ≥ 0.9× |")
        }
        if let value = report.worker.latency {
            rows.append("| publish → sent at \(value.ratePerSecond)/s, p50 / p99 ms | \(value.p50Milliseconds) / \(value.p99Milliseconds) | plain consumer \(value.arrivalP50Milliseconds) / \(value.arrivalP99Milliseconds) | p99 ≤ 20 ms |")
        }
        if let value = report.worker.memory {
            rows.append("| worker peak RSS, \(value.backlog) backlog, MB | \(value.peakResidentMegabytes) | | ≤ 300 MB |")
        }
        for point in report.scaleOut.points {
            rows.append("| scale-out, \(point.workers) worker(s), sends/s | \(number(point.sentPerSecond)) | linear = \(ratio(point.ratioToLinear)) | |")
        }
        return rows.joined(separator: "\n") + "\n"
    }
}

struct ConsoleBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Statuses per second the console's follower projects while 50 readers poll the campaign page; page latency percentiles."
    )

    @Option(help: "Status events in the backlog (two per message).") var statuses = 300_000
    @Option(help: "Concurrent page readers.") var readers = 50
    @Option(name: .customLong("view-ttl-ms"), help: "How long the console reuses a rendered view (0: render every request).") var viewTTL = 500
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        LoggingOptions(level: logging.level ?? "warning").bootstrap()
        var benchmark = ConsoleBenchmark()
        benchmark.statuses = statuses
        benchmark.readers = readers
        benchmark.viewTTL = .milliseconds(viewTTL)
        try printJSON(try await benchmark.run(logger: Logger(label: "broadcast.bench")))
    }
}
