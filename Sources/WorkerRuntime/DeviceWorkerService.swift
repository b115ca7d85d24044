import BroadcastModel
import DeviceWorker
import Foundation
import Kafka
import Logging
import Senders
import ServiceLifecycle
import Synchronization

/// A device worker: a member of the consumer group on the messages topic that sends each device's
/// messages in order and paced, never letting one device's wait hold up another.
///
/// Threads: the consumer's poll thread (fetching, rebalance callbacks), a dispatcher thread that
/// sleeps until the next lane is due, one task per send, the producer's delivery thread (status
/// acknowledgements), and a commit task. They share `WorkerCore`'s state under one lock.
public final class DeviceWorkerService: Service, Sendable {
    private let core: WorkerCore
    private let consumerConfiguration: ConsumerConfiguration
    private let statisticsHandler: StatisticsHandler?
    private let stopRequested = DispatchSignal()
    private let dispatcherStop = OnceFlag()

    /// - Parameters:
    ///   - producer: writes status events and dead letters; shared, closed by the caller.
    ///   - deviceState: where devices' safety state outlives this worker; nil keeps it in memory only.
    public init(
        configuration: WorkerConfiguration,
        consumer consumerConfiguration: ConsumerConfiguration,
        producer: KafkaProducer,
        senders: any SenderDirectory,
        policy: any SendPolicy = PassThroughPolicy(),
        logger: Logger = Logger(label: "broadcast.worker"),
        statisticsHandler: StatisticsHandler? = nil,
        deviceState: (any DeviceStateJournal)? = nil
    ) throws {
        // Parked devices' records are read again on consumers of their own, with the same settings.
        var rewind = consumerConfiguration
        rewind.groupId = "\(consumerConfiguration.groupId)-rewind-\(UUID().uuidString.prefix(8).lowercased())"
        rewind.maxBufferedMessages = min(consumerConfiguration.maxBufferedMessages, 5_000)
        // They assign partitions themselves and never join: under cooperative-sticky their close
        // would wait for a group assignment that never comes (see `KafkaConsumer.assign`).
        rewind.assignmentStrategy = .range
        core = try WorkerCore(
            configuration: configuration, producer: producer, senders: senders, policy: policy, logger: logger,
            deviceState: deviceState, rewindConfiguration: rewind)
        // The final revocation (inside close) may take the whole shutdown grace: close must not give up first.
        var live = consumerConfiguration
        live.closeTimeout = max(live.closeTimeout, configuration.shutdownGrace + .seconds(5))
        self.consumerConfiguration = live
        self.statisticsHandler = statisticsHandler
    }

    /// Ready: the group is joined and the worker is not shutting down.
    public var isReady: Bool {
        core.state.withLock { !$0.stopping } && core.consumer != nil && joined.isSet
    }
    private let joined = OnceFlag()

    public var counters: WorkerCounters { core.counters }

    /// Joins the group and works until `shutdown()` is called, its `ServiceGroup` shuts down
    /// gracefully, or its task is cancelled; then stops gracefully: no new sends, sends in flight
    /// finish (within the grace period), progress is committed, the group is left.
    public func run() async throws {
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await work()
        } onCancelOrGracefulShutdown: { [self] in
            shutdown()
        }
    }

    private func work() async throws {
        let core = core
        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration, logger: core.logger,
            rebalanceHandler: { [joined] event, control in
                core.handleRebalance(event, control: control)
                if event.kind == .assigned { joined.set() }
            },
            statisticsHandler: statisticsHandler
        )
        core.consumerRef.withLock { $0 = consumer }
        try consumer.subscribe(topics: [core.configuration.topics.messages])
        core.logger.info("worker started", metadata: [
            "worker": "\(core.configuration.workerName)", "group": "\(consumerConfiguration.groupId)",
            "topic": "\(core.configuration.topics.messages)",
        ])

        let stop = dispatcherStop
        let dispatcher = ServiceThread(name: "broadcast-dispatch") {
            var parkedChecked = Date.distantPast
            while !stop.isSet {
                // Parked devices wake on a timer of a second's resolution.
                if Date().timeIntervalSince(parkedChecked) >= 0.25 {
                    parkedChecked = Date()
                    core.wakeParkedDevices()
                }
                let (due, wakeUp) = core.takeDue()
                for dispatch in due {
                    Task { await core.perform(dispatch) }
                }
                if !due.isEmpty { continue }
                // Sleep until the next lane is due, or a signal (records, completions, shutdown).
                let seconds = wakeUp.map { max(0, $0 - core.clock.now) } ?? 1
                core.wakeDispatcher.wait(until: Date().addingTimeInterval(min(seconds, 1)))
            }
        }
        let committer = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: core.configuration.commitInterval)
                await core.commitProgress()
            }
        }
        let reader = Task {
            for await event in consumer.events {
                switch event {
                case .messages(let batch): core.ingest(batch)
                case .error(let error): core.logger.warning("consumer error", metadata: ["error": "\(error)"])
                case .assigned, .revoked: core.wakeDispatcher.signal()
                }
            }
        }

        await waitForStop()
        let configuration = core.configuration
        core.logger.info("worker stopping: no new sends; waiting for sends in flight", metadata: ["budget": "\(configuration.shutdownGrace)"])
        let owned = core.state.withLock { state in
            state.stopping = true
            state.shutdownDeadline = .now + configuration.shutdownGrace
            return state.partitions.keys.map { TopicPartition(topic: configuration.topics.messages, partition: $0) }
        }
        consumer.pause(owned)
        core.closeRewinds(nil)
        core.wakeDispatcher.signal()
        await offloadWait { core.waitForSettled(partitions: nil, grace: configuration.shutdownGrace - configuration.shutdownReserve) }
        committer.cancel()
        _ = await committer.value
        await core.commitProgress()
        // Leaving the group runs the final revocation, which commits once more, marked as a hand-over.
        await consumer.close()
        _ = await reader.value
        dispatcherStop.set()
        core.wakeDispatcher.signal()
        dispatcher.join()
        core.logger.info("worker stopped", metadata: ["totals": "\(core.counters.snapshot)"])
    }

    /// Asks `run()` to stop gracefully. Safe from any thread, any number of times.
    public func shutdown() {
        stopRequested.signal()
    }

    /// What is left of the shutdown grace (zero once spent), or nil before the stop began: the
    /// caller's own closing steps (the producer's flush) fit in it.
    public var shutdownRemaining: Duration? {
        core.state.withLock { $0.shutdownDeadline }.map { max(.zero, $0 - .now) }
    }

    private func waitForStop() async {
        let signal = stopRequested
        await offloadWait { signal.wait(until: .distantFuture) }
    }
}

/// Runs a blocking wait on a Dispatch thread, off Swift's cooperative pool.
func offloadWait(_ body: @escaping @Sendable () -> Void) async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        DispatchQueue.global().async {
            body()
            continuation.resume()
        }
    }
}
