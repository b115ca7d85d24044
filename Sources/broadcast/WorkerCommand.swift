import ArgumentParser
import BroadcastModel
import Foundation
import Kafka
import Logging
import Senders
import WorkerRuntime

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a device worker: a consumer group member that paces and sends each device's messages."
    )

    @OptionGroup var kafka: KafkaOptions
    @Option(help: "Consumer group of the workers.") var group = "broadcast-workers"
    @Option(name: .customLong("default-sender"), help: "Sender for devices without their own: simulated.") var defaultSender = "simulated"
    @Option(name: .customLong("worker-name"), help: "Name in status events (default host-pid).") var workerName: String?
    @Option(name: .customLong("assignment-strategy"), help: "roundrobin, range or cooperative-sticky; every worker of a group must use the same.")
    var assignmentStrategy = WorkerConfiguration.recommendedAssignmentStrategy.rawValue
    @Option(name: .customLong("session-timeout-ms"), help: "Group session timeout.") var sessionTimeoutMilliseconds = 10_000
    @Option(name: .customLong("max-held"), help: "Records held in lanes before fetching pauses.") var maxHeld = 50_000
    @Option(name: .customLong("commit-interval-ms"), help: "How often progress is committed.") var commitIntervalMilliseconds = 200
    @Option(name: .customLong("shutdown-grace-seconds"), help: "How long SIGTERM waits for sends in flight.") var shutdownGraceSeconds = 20
    @OptionGroup var simulation: SimulationOptions
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard PartitionAssignmentStrategy(rawValue: assignmentStrategy) != nil else {
            throw ValidationError("--assignment-strategy must be one of \(PartitionAssignmentStrategy.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard defaultSender == "simulated" else {
            throw ValidationError("--default-sender '\(defaultSender)' is not known; use simulated (real senders are configured per device)")
        }
        guard maxHeld >= 2 else { throw ValidationError("--max-held must be at least 2") }
    }

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "broadcast.worker")
        let name = workerName ?? WorkerConfiguration.defaultWorkerName
        var configuration = WorkerConfiguration(topics: kafka.topics, workerName: name)
        configuration.maxHeldRecords = maxHeld
        configuration.resumeBelowRecords = maxHeld / 2
        configuration.commitInterval = .milliseconds(commitIntervalMilliseconds)
        configuration.shutdownGrace = .seconds(shutdownGraceSeconds)

        var consumer = ConsumerConfiguration(client: try kafka.clientOptions(clientId: "broadcast-worker-\(name)"), groupId: group)
        consumer.assignmentStrategy = PartitionAssignmentStrategy(rawValue: assignmentStrategy) ?? WorkerConfiguration.recommendedAssignmentStrategy
        consumer.sessionTimeoutMilliseconds = sessionTimeoutMilliseconds
        consumer.heartbeatIntervalMilliseconds = WorkerConfiguration.heartbeatInterval(sessionTimeoutMilliseconds: sessionTimeoutMilliseconds)
        let producer = try KafkaProducer(
            configuration: ProducerConfiguration(client: try kafka.clientOptions(clientId: "broadcast-worker-\(name)")),
            logger: logger
        )
        let worker = try DeviceWorkerService(
            configuration: configuration, consumer: consumer, producer: producer,
            senders: SingleSenderDirectory(SimulatedSender(configuration: try simulation.configuration())), logger: logger
        )
        let stopper = Task {
            let signal = await TerminationSignal.wait()
            logger.info("signal received; shutting down", metadata: ["signal": "\(signal)"])
            worker.shutdown()
        }
        try await worker.run()
        stopper.cancel()
        await producer.close()
    }
}

/// The simulated sender's behaviour, for development, demos and tests.
struct SimulationOptions: ParsableArguments {
    @Option(name: .customLong("sim-latency-ms"), help: "Simulated send latency range, e.g. 80-400 or 0.") var latency = "80-400"
    @Option(name: .customLong("sim-retryable-rate"), help: "Share of simulated sends failing with a retryable error.") var retryableRate = 0.0
    @Option(name: .customLong("sim-permanent-rate"), help: "Share of simulated sends failing for good.") var permanentRate = 0.0
    @Option(name: .customLong("sim-ban-device"), help: "A device whose simulated sends fail ban-like (repeatable).") var banDevices: [String] = []
    @Option(name: .customLong("sim-seed"), help: "Seed of the simulated outcomes.") var seed: UInt64 = 1

    func configuration() throws -> SimulatedSender.Configuration {
        var configuration = SimulatedSender.Configuration()
        let bounds = latency.split(separator: "-").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !bounds.isEmpty, bounds.count <= 2, let low = bounds.first ?? nil, let high = bounds.last ?? nil, low >= 0, low <= high else {
            throw ValidationError("--sim-latency-ms must be N or MIN-MAX milliseconds, got '\(latency)'")
        }
        guard (0...1).contains(retryableRate), (0...1).contains(permanentRate), retryableRate + permanentRate <= 1 else {
            throw ValidationError("--sim-retryable-rate and --sim-permanent-rate must be between 0 and 1 and add up to at most 1")
        }
        configuration.minLatencyMilliseconds = low
        configuration.maxLatencyMilliseconds = high
        configuration.retryableFailureRate = retryableRate
        configuration.permanentFailureRate = permanentRate
        configuration.banLikeDevices = Set(banDevices)
        configuration.seed = seed
        return configuration
    }
}

