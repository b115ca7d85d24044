import ArgumentParser
import BroadcastModel
import DevicePolicies
import Foundation
import HTTPSenders
import Kafka
import Logging
import Operations
import Senders
import WorkerRuntime

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a device worker: a consumer group member that paces and sends each device's messages."
    )

    @OptionGroup var kafka: KafkaOptions
    @Option(help: "Consumer group of the workers.") var group = "broadcast-workers"
    @Option(name: .customLong("devices"), help: "Devices file (YAML or JSON): each device's sender, time zone, locale, caps and quiet hours.")
    var devicesPath: String?
    @Option(name: .customLong("default-sender"), help: ArgumentHelp(
        "Sender for devices the devices file does not list: simulated, whatsapp-cloud or gateway (default: the file's defaults.sender, else simulated).",
        discussion: "whatsapp-cloud and gateway need per-device settings, so with them only listed devices can send; others are paused."
    ))
    var defaultSender: String?
    @Option(name: .customLong("opt-out"), help: "File of opted-out phones, one E.164 number a line (# comments); bad lines are logged and skipped.")
    var optOutPath: String?
    @Option(name: .customLong("opt-out-wait-seconds"), help: "How long to wait at start for the opt-out topic to be read before sending.")
    var optOutWaitSeconds = 15
    @Option(name: .customLong("worker-name"), help: "Name in status events (default host-pid).") var workerName: String?
    @Option(name: .customLong("assignment-strategy"), help: "roundrobin, range or cooperative-sticky; every worker of a group must use the same.")
    var assignmentStrategy = WorkerConfiguration.recommendedAssignmentStrategy.rawValue
    @Option(name: .customLong("session-timeout-ms"), help: "Group session timeout.") var sessionTimeoutMilliseconds = 10_000
    @Option(name: .customLong("max-held"), help: "Records held in lanes before fetching pauses.") var maxHeld = WorkerConfiguration.defaultMaxHeldRecords
    @Option(name: .customLong("commit-interval-ms"), help: "How often progress is committed.") var commitIntervalMilliseconds = 200
    @Option(name: .customLong("shutdown-grace-seconds"), help: "How long SIGTERM waits for sends in flight.") var shutdownGraceSeconds = 20
    @OptionGroup var simulation: SimulationOptions
    @Option(name: .customLong("metrics-port"), help: "Serve /metrics (Prometheus), /healthz and /readyz on this port.")
    var metricsPort: Int?
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard PartitionAssignmentStrategy(rawValue: assignmentStrategy) != nil else {
            throw ValidationError("--assignment-strategy must be one of \(PartitionAssignmentStrategy.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let defaultSender {
            guard let kind = SenderKind(rawValue: defaultSender) else {
                throw ValidationError("--default-sender '\(defaultSender)' is not known; use one of \(SenderKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard kind == .simulated || devicesPath != nil else {
                throw ValidationError("--default-sender \(defaultSender) needs --devices FILE: each device needs its own \(kind == .gateway ? "gateway instance" : "phone number id and token")")
            }
        }
        guard optOutWaitSeconds >= 0 else { throw ValidationError("--opt-out-wait-seconds must be 0 or more") }
        guard maxHeld >= 2 else { throw ValidationError("--max-held must be at least 2") }
    }

    func run() async throws {
        AllocatorTuning.limitArenas()
        logging.bootstrap()
        let logger = Logger(label: "broadcast.worker")
        let name = workerName ?? WorkerConfiguration.defaultWorkerName
        // Everything that can refuse the configuration runs before any client or connection exists.
        let providerOptOuts = ProviderOptOutPublisher(logger: logger)
        let setup = try loadSetup(logger: logger, providerOptOuts: providerOptOuts)
        var configuration = WorkerConfiguration(topics: kafka.topics, workerName: name)
        configuration.maxHeldRecords = maxHeld
        configuration.resumeBelowRecords = WorkerConfiguration.resumeThreshold(maxHeld: maxHeld)
        configuration.commitInterval = .milliseconds(commitIntervalMilliseconds)
        configuration.shutdownGrace = .seconds(shutdownGraceSeconds)

        var base = ConsumerConfiguration(client: try kafka.clientOptions(clientId: "broadcast-worker-\(name)"), groupId: group)
        base.sessionTimeoutMilliseconds = sessionTimeoutMilliseconds
        var consumer = WorkerConfiguration.consumer(base)
        consumer.assignmentStrategy = PartitionAssignmentStrategy(rawValue: assignmentStrategy) ?? WorkerConfiguration.recommendedAssignmentStrategy
        // Consumer lag for /metrics comes from librdkafka's statistics, which also cover paused partitions.
        let lag = ConsumerLagTracker()
        if metricsPort != nil { consumer.statisticsIntervalMilliseconds = 5_000 }
        let optOutClient = try kafka.clientOptions(clientId: "broadcast-optouts-\(name)")
        let producer = try KafkaProducer(
            configuration: ProducerConfiguration(client: try kafka.clientOptions(clientId: "broadcast-worker-\(name)")),
            logger: logger
        )
        providerOptOuts.attach(producer: producer, topic: kafka.topics.optOuts)
        let senders = RegistrySenderDirectory(SenderRegistry(
            devices: setup.devices, defaultSender: defaultSender.flatMap(SenderKind.init(rawValue:)),
            simulated: setup.simulated, logger: logger
        ))
        let worker: DeviceWorkerService
        let optOuts: OptOutFollower
        let replies: InboundReplyFollower
        // Campaign pause/resume/cancel from the control topic, checked before anti-spam.
        let control = BackgroundCampaignControl()
        do {
            let policy = CampaignControlPolicy(wrapping: setup.policy, control: control)
            let handler: StatisticsHandler = { @Sendable json in lag.handle(json) }
            let statistics = metricsPort == nil ? nil : handler
            worker = try DeviceWorkerService(
                configuration: configuration, consumer: consumer, producer: producer,
                senders: senders, policy: policy, logger: logger, statisticsHandler: statistics
            )
            optOuts = try startOptOutFollower(client: optOutClient, store: setup.policy.optOuts, workerName: name)
            replies = try InboundReplyFollower(
                client: try kafka.clientOptions(clientId: "broadcast-replies-\(name)"), topic: kafka.topics.inbound,
                ledger: setup.policy.replies, groupPrefix: "broadcast-replies-\(name)")
            try replies.start()
        } catch {
            // The senders' HTTP client must be shut down before it is released.
            await senders.shutdown()
            await producer.close()
            throw error
        }
        if await !optOuts.waitUntilCaughtUp(timeout: .seconds(optOutWaitSeconds)) {
            logger.warning("sending before the opt-out topic was read to its end; phones opted out there are skipped once read", metadata: [
                "topic": "\(optOuts.topic)", "waited": "\(optOutWaitSeconds)s",
            ])
        }
        await control.start(client: try kafka.clientOptions(clientId: "broadcast-control-\(name)"), topics: kafka.topics, logger: logger)
        var metrics: MetricsServer?
        if let metricsPort {
            metrics = try await MetricsServer.startForWorker(
                port: metricsPort, counters: worker.counters, lag: lag, ready: { worker.isReady }, logger: logger
            )
        }
        let stopper = Task {
            let signal = await TerminationSignal.wait()
            logger.info("signal received; shutting down", metadata: ["signal": "\(signal)"])
            worker.shutdown()
        }
        try await worker.run()
        stopper.cancel()
        await metrics?.stop()
        await control.stop()
        await senders.shutdown()
        await optOuts.close()
        await replies.close()
        await producer.close()
    }

    private struct Setup {
        var devices: DevicesFile
        var policy: AntiSpamPolicy
        var simulated: SimulatedSender.Configuration
    }

    /// The devices file (refused at start, naming the device and field, when anything is wrong) and
    /// the anti-spam policy with the opt-out file.
    private func loadSetup(logger: Logger, providerOptOuts: ProviderOptOutPublisher) throws -> Setup {
        var devices = DevicesFile()
        if let devicesPath {
            do {
                devices = try DevicesFile.load(path: devicesPath)
            } catch {
                throw StartupRefused("devices file refused: \(error)")
            }
        }
        let profiles: DeviceProfiles
        do {
            profiles = try DeviceProfiles(devicesFile: devices)
        } catch {
            throw StartupRefused("devices file refused: \(devicesPath ?? "devices file"): \(error)")
        }
        let store = try loadOptOutFile(logger: logger)
        let policy = AntiSpamPolicy(
            configuration: .init(profiles: profiles), optOuts: store, logger: Logger(label: "broadcast.policy"),
            onProviderOptOut: { providerOptOuts.publish($0) })
        logger.info("devices and anti-spam configured", metadata: [
            "devicesFile": "\(devicesPath ?? "none")", "devices": "\(devices.devices.count)",
            "defaultSender": "\(defaultSender ?? devices.defaults.sender.rawValue)", "optOutFileEntries": "\(store.count)",
        ])
        return Setup(devices: devices, policy: policy, simulated: try simulation.configuration())
    }

    private func loadOptOutFile(logger: Logger) throws -> OptOutStore {
        let loaded: (store: OptOutStore, issues: [String])
        do {
            loaded = try OptOutStore.loading(file: optOutPath)
        } catch {
            throw StartupRefused(error.description)
        }
        for issue in loaded.issues {
            logger.warning("opt-out file line skipped", metadata: ["file": "\(optOutPath ?? "")", "issue": "\(issue)"])
        }
        return loaded.store
    }

    /// Every worker reads the whole opt-out topic under a group of its own; it never creates it.
    private func startOptOutFollower(client: KafkaClientOptions, store: OptOutStore, workerName: String) throws -> OptOutFollower {
        let follower = try OptOutFollower(
            client: client, topic: kafka.topics.optOuts,
            store: store, groupPrefix: "broadcast-optouts-\(workerName)", logger: Logger(label: "broadcast.optouts")
        )
        try follower.start()
        return follower
    }
}

/// A configuration the worker refuses at start; printed as is, without the usage text.
struct StartupRefused: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
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

