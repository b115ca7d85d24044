import ArgumentParser
import ContactFiles
import BroadcastModel
import DevicePolicies
import Foundation
import HTTPSenders
import Kafka
import Logging
import Metrics
import Operations
import Prometheus
import Senders
import ServiceLifecycle
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
    @Option(name: .customLong("opt-out"), help: "File of opted-out phones: one number a line or a CSV with a phone column (# comments); a line that is not a phone refuses the start.")
    var optOutPath: String?
    @Option(name: .customLong("default-country"), help: "Country code for local numbers in the opt-out file (e.g. 60).")
    var defaultCountry: String?
    @Option(name: .customLong("opt-out-wait-seconds"), help: "How long to wait at start for the opt-out topic to be read before sending.")
    var optOutWaitSeconds = 15
    @Option(name: .customLong("worker-name"), help: "Name in status events (default host-pid).") var workerName: String?
    @Option(name: .customLong("assignment-strategy"), help: "roundrobin, range or cooperative-sticky; every worker of a group must use the same.")
    var assignmentStrategy = WorkerConfiguration.recommendedAssignmentStrategy.rawValue
    @Option(name: .customLong("session-timeout-ms"), help: "Group session timeout.") var sessionTimeoutMilliseconds = 10_000
    @Option(name: .customLong("max-held"), help: "Records held in lanes before fetching pauses.") var maxHeld = WorkerConfiguration.defaultMaxHeldRecords
    @Option(name: .customLong("commit-interval-ms"), help: "How often progress is committed.") var commitIntervalMilliseconds = 200
    @Option(name: .customLong("max-in-flight"), help: "Sends in flight at once across all devices (also the HTTP connections per provider host).")
    var maxInFlight = WorkerConfiguration.defaultMaxSendsInFlight
    @Option(name: .customLong("shutdown-grace-seconds"), help: ArgumentHelp(
        "The whole graceful stop after SIGTERM: sends in flight, the final commit, leaving the group, flushing status events.",
        discussion: "Give the process longer than this before it is killed (Kubernetes terminationGracePeriodSeconds, compose stop_grace_period): 10 s more is safe."
    ))
    // WorkerConfiguration.defaultShutdownGraceSeconds, written out for .ci/check-deploy.py.
    var shutdownGraceSeconds = 30
    @Option(name: .customLong("device-state"), help: ArgumentHelp(
        "Keep devices' safety state (caps, warm-up, pauses, last send, operator status) on the compacted devices topic: auto, on or off.",
        discussion: "auto: on when the topic exists, else off with a warning. on: refuse to start without the topic. off: state lives in this process only, and a hand-over starts caps and warm-up over."
    ))
    var deviceStateMode = DeviceStateMode.auto.rawValue
    @Option(name: .customLong("park-after-seconds"), help: ArgumentHelp(
        "Park a device whose next send must wait at least this long (quiet hours, caps, a cool-off, a far scheduledAt); 0 never parks.",
        discussion: "A parked device's records leave memory and stop holding back its partition's commit point; they are read again from the messages topic, in order, when it wakes. Needs device state (the devices topic), and a retention on the messages topic longer than the longest wait."
    ))
    var parkAfterSeconds = 60
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
        guard maxInFlight >= 1 else { throw ValidationError("--max-in-flight must be at least 1") }
        guard parkAfterSeconds >= 0 else { throw ValidationError("--park-after-seconds must be 0 or more") }
        guard shutdownGraceSeconds >= 1 else { throw ValidationError("--shutdown-grace-seconds must be at least 1") }
        guard DeviceStateMode(rawValue: deviceStateMode) != nil else {
            throw ValidationError("--device-state must be one of \(DeviceStateMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
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
        configuration.maxSendsInFlight = maxInFlight
        configuration.parkAfter = .seconds(parkAfterSeconds)
        // One registry behind swift-metrics for the whole process: the worker's counters and the
        // lag tracker write to it as things happen; /metrics only renders it.
        let registry = PrometheusCollectorRegistry()
        if metricsPort != nil { MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry)) }
        configuration.shutdownGrace = .seconds(shutdownGraceSeconds)

        var base = ConsumerConfiguration(client: try kafka.clientOptions(clientId: "broadcast-worker-\(name)"), groupId: group)
        base.sessionTimeoutMilliseconds = sessionTimeoutMilliseconds
        var consumer = WorkerConfiguration.consumer(base)
        consumer.assignmentStrategy = PartitionAssignmentStrategy(rawValue: assignmentStrategy) ?? WorkerConfiguration.recommendedAssignmentStrategy
        // Consumer lag for /metrics comes from librdkafka's statistics, which also cover paused partitions.
        let lag = ConsumerLagTracker()
        if metricsPort != nil { consumer.statisticsIntervalMilliseconds = 5_000 }
        let optOutClient = try kafka.clientOptions(clientId: "broadcast-optouts-\(name)")
        let controlClient = try kafka.clientOptions(clientId: "broadcast-control-\(name)")
        let producer = try KafkaProducer(
            configuration: ProducerConfiguration(client: try kafka.clientOptions(clientId: "broadcast-worker-\(name)")),
            logger: logger
        )
        var transport = HTTPTransport.Configuration()
        transport.maxConnectionsPerHost = max(transport.maxConnectionsPerHost, maxInFlight)
        providerOptOuts.attach(producer: producer, topic: kafka.topics.optOuts)
        let senders = RegistrySenderDirectory(SenderRegistry(
            devices: setup.devices, defaultSender: defaultSender.flatMap(SenderKind.init(rawValue:)),
            simulated: setup.simulated, transport: transport, logger: logger
        ))
        let deviceState = try await startDeviceState(setup, workerName: name, logger: logger)
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
                senders: senders, policy: policy, logger: logger, statisticsHandler: statistics,
                deviceState: deviceState
            )
            optOuts = try startOptOutFollower(client: optOutClient, store: setup.policy.optOuts, workerName: name)
            replies = try InboundReplyFollower(
                client: try kafka.clientOptions(clientId: "broadcast-replies-\(name)"), topic: kafka.topics.inbound,
                ledger: setup.policy.replies, groupPrefix: "broadcast-replies-\(name)")
            try replies.start()
        } catch {
            // The senders' HTTP client must be shut down before it is released.
            await deviceState?.close()
            await senders.shutdown()
            await producer.close()
            throw error
        }
        if await !optOuts.waitUntilCaughtUp(timeout: .seconds(optOutWaitSeconds)) {
            logger.warning("sending before the opt-out topic was read to its end; phones opted out there are skipped once read", metadata: [
                "topic": "\(optOuts.topic)", "waited": "\(optOutWaitSeconds)s",
            ])
        }
        // Pauses and cancels are known before the first send.
        await control.start(client: controlClient, topics: kafka.topics, logger: logger)
        let port = metricsPort
        // Stopped in reverse order: the deadline is armed, the worker stops (sends finish, progress
        // is committed, the group is left), then what it reads from, then the metrics endpoint.
        var services: [any Service] = []
        if let port {
            let server = Slot<MetricsServer>()
            services.append(ManagedService("metrics server", start: {
                server.set(try await MetricsServer.start(port: port, registry: registry, ready: { worker.isReady }, logger: logger))
            }, stop: { await server.take()?.stop() }))
        }
        services.append(ManagedService("opt-out follower", stop: { await optOuts.close() }))
        if let deviceState {
            services.append(ManagedService("device-state follower", stop: { await deviceState.close() }))
        }
        services.append(ManagedService("reply follower", stop: { await replies.close() }))
        services.append(ManagedService("campaign control", stop: { await control.stop() }))
        services.append(worker)
        // Shut down first: the grace is the whole stop, so a step stuck past it (a broker that does
        // not answer) ends the process here, before the deployment's kill, with the reason in the log.
        let grace = configuration.shutdownGrace
        services.append(ManagedService("shutdown deadline", stop: {
            Task.detached {
                try? await Task.sleep(for: grace + .seconds(1))
                logger.error("shutdown took longer than --shutdown-grace-seconds; exiting", metadata: ["grace": "\(grace)"])
                Foundation.exit(EXIT_FAILURE)
            }
        }))
        let group = ServiceGroup(configuration: .gracefulOnSignals(services, logger: logger))
        // Whatever ends the group (a signal, an error), the senders and the producer close last,
        // the producer's flush within what is left of the budget.
        var failure: (any Error)?
        do { try await group.run() } catch { failure = error }
        await senders.shutdown()
        await producer.close(flushTimeout: worker.shutdownRemaining ?? .seconds(5))
        if let failure { throw failure }
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
        do {
            return try OptOutStore.loading(file: optOutPath, defaultCountryCode: defaultCountry)
        } catch {
            throw StartupRefused("opt-out file refused: \(error.description)")
        }
    }

    /// The device-state journal on the devices topic, or nil when off (or auto and the topic is missing).
    private func startDeviceState(_ setup: Setup, workerName: String, logger: Logger) async throws -> DeviceStateFollower? {
        let mode = DeviceStateMode(rawValue: deviceStateMode) ?? .auto
        // Claims live on the devices topic: without it no budget can be shared, so none is kept.
        let budgeted = setup.devices.businesses.filter { $0.uniqueRecipientsPerDay != nil }.map(\.id)
        let warnUnbudgeted = {
            guard !budgeted.isEmpty else { return }
            logger.warning("business budgets are NOT enforced without the device-state topic", metadata: [
                "businesses": "\(budgeted.joined(separator: ","))",
            ])
        }
        guard mode != .off else {
            logger.warning("device state off: caps, warm-up and pauses live in this process only and start over on a hand-over")
            warnUnbudgeted()
            return nil
        }
        let client = try kafka.clientOptions(clientId: "broadcast-devices-\(workerName)")
        let topic = kafka.topics.devices
        let exists: Bool
        do {
            exists = try await !TopicStream.partitions(of: topic, client: client, logger: logger).isEmpty
        } catch .topicNotFound {
            exists = false
        } catch {
            throw StartupRefused("could not look up the device-state topic \(topic): \(error)")
        }
        guard exists else {
            if mode == .on {
                throw StartupRefused("the device-state topic \(topic) does not exist: create it (cleanup.policy=compact, as deploy/ does) or start with --device-state off")
            }
            logger.warning("device-state topic missing: caps, warm-up and pauses live in this process only and start over on a hand-over", metadata: [
                "topic": "\(topic)",
            ])
            warnUnbudgeted()
            return nil
        }
        let budgets = RecipientBudgets(devicesFile: setup.devices, topic: topic, writer: workerName)
        let follower = try DeviceStateFollower(
            client: client, topic: topic, policy: setup.policy, writer: workerName, budgets: budgets,
            groupPrefix: "broadcast-devices-\(workerName)", logger: Logger(label: "broadcast.devices"))
        try follower.start()
        return follower
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

/// `--device-state`.
enum DeviceStateMode: String, CaseIterable {
    case auto, on, off
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

