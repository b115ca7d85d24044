import ArgumentParser
import Benchmarks
import Foundation
import Logging

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks; each prints one JSON object on standard output.",
        subcommands: [KafkaBenchCommand.self, PublishBenchCommand.self, WorkerBenchCommand.self]
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

    @Option(help: "Scenarios: throughput, hol, latency, memory (repeatable; default all).")
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
        benchmark.executable = CommandLine.arguments.first.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        try printJSON(try await benchmark.run(chosen, logger: Logger(label: "broadcast.bench")))
    }
}
