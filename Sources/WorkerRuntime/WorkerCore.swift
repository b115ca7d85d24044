import BroadcastModel
import DeviceWorker
import Foundation
import Kafka
import Logging
import Senders
import Synchronization

/// The worker's shared machinery: state behind one lock, the producer for status events and dead
/// letters, and the handlers the consumer, dispatcher and send tasks call.
final class WorkerCore: Sendable {
    let configuration: WorkerConfiguration
    let producer: KafkaProducer
    let senders: any SenderDirectory
    let policy: any SendPolicy
    let logger: Logger
    let clock = MonotonicClock()
    let counters: WorkerCounters
    let state: Mutex<WorkerState>
    let wakeDispatcher = DispatchSignal()
    /// Revocation and shutdown wait on this for in-progress records to settle.
    let settled = DispatchSignal()
    let consumerRef = Mutex<KafkaConsumer?>(nil)

    init(configuration: WorkerConfiguration, producer: KafkaProducer, senders: any SenderDirectory, policy: any SendPolicy, logger: Logger) throws {
        self.configuration = configuration
        self.producer = producer
        self.senders = senders
        self.policy = policy
        self.logger = logger
        counters = WorkerCounters(factory: configuration.metricsFactory)
        let scheduler = LaneScheduler<LaneItem>(
            configuration: .init(paceFirstSendFromTakeover: configuration.paceFirstSendAfterTakeover)
        )
        let gate = try BackpressureGate(high: configuration.maxHeldRecords, low: configuration.resumeBelowRecords)
        state = Mutex(WorkerState(scheduler: scheduler, gate: gate))
    }

    var consumer: KafkaConsumer? { consumerRef.withLock { $0 } }

    // MARK: Intake

    /// Consumer task: turns a batch into lane entries and dead letters.
    func ingest(_ batch: ConsumerBatch) {
        let verdicts = batch.map { (partition: $0.partition, offset: $0.offset, verdict: RecordIntake.examine($0)) }
        let now = clock.now
        var deadLetters: [(partition: Int32, offset: Int64, epoch: UInt64, verdict: IntakeVerdict)] = []
        state.withLock { state in
            for item in verdicts {
                // Mutated in place: a copy of the partition's state would copy its tracker's buffers.
                guard let index = state.partitions.index(forKey: item.partition) else { continue }
                let (revoking, epoch) = (state.partitions.values[index].revoking, state.partitions.values[index].epoch)
                guard !revoking, batch.epoch >= epoch else {
                    continue  // not ours any more, or fetched under an older assignment
                }
                let alreadyDone: Bool
                do {
                    alreadyDone = try state.partitions.values[index].tracker.received(item.offset)
                } catch {
                    logger.error("offset out of order; record left for the next owner", metadata: ["error": "\(error)"])
                    continue
                }
                if alreadyDone { continue }
                switch item.verdict {
                case .accept(let message):
                    state.scheduler.enqueue(
                        partition: item.partition, offset: item.offset, device: message.deviceId,
                        payload: LaneItem(message: message, epoch: epoch),
                        notBefore: clock.instant(of: message.scheduledAt),
                        minDelay: message.delay.minSeconds, maxDelay: message.delay.maxSeconds, now: now
                    )
                case .deadLetter:
                    state.partitions.values[index].inProgress += 1
                    state.awaitingAcknowledgement += 1
                    deadLetters.append((item.partition, item.offset, epoch, item.verdict))
                }
            }
            updateGate(&state)
        }
        for letter in deadLetters {
            deadLetter(partition: letter.partition, offset: letter.offset, epoch: letter.epoch, verdict: letter.verdict)
        }
        wakeDispatcher.signal()
    }

    /// Under the lock: refreshes the gauges, asks the gate, and pauses or resumes fetching when it
    /// says so. Applied inside the lock (the consumer only queues the request for its poll thread),
    /// so the consumer sees pauses and resumes in the order the gate decided them: applied outside,
    /// a resume could overtake the pause before it and leave fetching paused for good.
    func updateGate(_ state: inout WorkerState) {
        counters.held.store(state.scheduler.heldCount)
        counters.lanes.store(state.scheduler.laneCount)
        counters.sendsInFlight.store(state.scheduler.inFlightCount)
        guard let action = state.gate.update(held: state.scheduler.heldCount + state.awaitingAcknowledgement),
              let consumer else { return }
        let list = state.partitions.keys.map { TopicPartition(topic: configuration.topics.messages, partition: $0) }
        switch action {
        case .pause:
            consumer.pause(list)
            counters.pausedForBackpressure.store(true)
            logger.info("fetching paused: too many records held", metadata: ["limit": "\(configuration.maxHeldRecords)"])
        case .resume:
            consumer.resume(list)
            counters.pausedForBackpressure.store(false)
            logger.info("fetching resumed")
        }
    }

    /// Re-checks backpressure after lanes shrank.
    func updateBackpressure() {
        state.withLock { updateGate(&$0) }
    }

    // MARK: Rebalance (runs on the consumer's poll thread, inside librdkafka's callback)

    func handleRebalance(_ event: RebalanceEvent, control: ConsumerControl) {
        let mine = event.partitions.filter { $0.topic == configuration.topics.messages }
        // A rebalance round ended (this callback is its last step): commits and sends may go on.
        state.withLock { $0.commitsSuspendedUntil = nil }
        defer { wakeDispatcher.signal() }
        switch event.kind {
        case .assigned:
            handBack(keeping: Set(mine.map(\.partition)), control: control)
            if !mine.isEmpty {
                // Give previous owners a moment to hand back progress whose commit the rebalance refused.
                Thread.sleep(forTimeInterval: configuration.handOverSettleDelay.seconds)
            }
            var committed: [Int32: TopicPartitionOffset] = [:]
            do {
                for offset in try control.committed(mine) { committed[offset.partition] = offset }
            } catch {
                // Fetching still starts at the committed offset; only the metadata's skip list is lost.
                logger.warning("could not read committed offsets; finished records above them may be sent again", metadata: ["error": "\(error)"])
            }
            state.withLock { state in
                for partition in mine {
                    var start = committed[partition.partition].map { (offset: $0.offset, metadata: $0.metadata ?? "") }
                    // Our own record of the partition is newer when the group's commit lags behind it.
                    if let known = state.retired.removeValue(forKey: partition.partition), known.offset > (start?.offset ?? -1) {
                        start = known
                    }
                    let tracker = OffsetTracker.resume(committed: start?.offset ?? KafkaOffset.invalid, metadata: start?.metadata)
                    state.partitions[partition.partition] = PartitionState(tracker: tracker, epoch: event.epoch)
                }
                // Under the lock, like every other pause and resume (see `updateGate`).
                if state.gate.isPaused { consumer?.pause(mine) }
            }
            logger.info("took over partitions", metadata: ["partitions": "\(mine.map(\.partition))"])
        case .revoked:
            let numbers = Set(mine.map(\.partition))
            state.withLock { state in
                for number in numbers {
                    state.partitions[number]?.revoking = true
                    _ = state.scheduler.revoke(partition: number)
                }
            }
            if !event.lost {
                let started = ContinuousClock.now
                waitForSettled(partitions: numbers, grace: configuration.revokeGrace)
                logger.debug("revocation waited for sends in flight", metadata: ["waited": "\(ContinuousClock.now - started)"])
            }
            let offsets = state.withLock { state in
                defer {
                    for number in numbers {
                        if let known = state.partitions.removeValue(forKey: number)?.tracker.position { state.retired[number] = known }
                    }
                }
                return numbers.compactMap { number in
                    state.partitions[number]?.tracker.nextCommit().map {
                        TopicPartitionOffset(topic: configuration.topics.messages, partition: number, offset: $0.offset, metadata: $0.metadata)
                    }
                }
            }
            if event.lost {
                logger.warning("partitions lost without a hand-over; their unfinished records go to the next owner", metadata: ["partitions": "\(numbers.sorted())"])
            } else {
                do {
                    try control.commit(offsets)
                } catch {
                    logger.warning("commit before hand-over failed; the next owner resumes from the last periodic commit", metadata: ["error": "\(error)"])
                }
            }
            updateBackpressure()
            logger.info("handed over partitions", metadata: ["partitions": "\(numbers.sorted())"])
        }
    }

    /// Commits, with the new generation, what this worker finished on partitions it gave up when the
    /// rebalance refused that commit (an eager revocation runs while the group is already joining on
    /// some brokers). Kafka accepts a commit from any member of the current generation; it only moves
    /// a partition forward, never back, and the new owner reads it after `handOverSettleDelay`.
    private func handBack(keeping owned: Set<Int32>, control: ConsumerControl) {
        let retired = state.withLock { state in
            state.retired.filter { !owned.contains($0.key) }
        }
        guard !retired.isEmpty else { return }
        let topic = configuration.topics.messages
        do {
            let committed = try control.committed(retired.keys.map { TopicPartition(topic: topic, partition: $0) })
            let ahead = committed.compactMap { current -> TopicPartitionOffset? in
                guard let known = retired[current.partition], known.offset > current.offset else { return nil }
                return TopicPartitionOffset(topic: topic, partition: current.partition, offset: known.offset, metadata: known.metadata)
            }
            try control.commit(ahead)
            state.withLock { state in retired.keys.forEach { state.retired.removeValue(forKey: $0) } }
            if !ahead.isEmpty {
                logger.info("handed back progress of partitions given up", metadata: ["partitions": "\(ahead.map(\.partition).sorted())"])
            }
        } catch {
            logger.warning("could not hand back progress of partitions given up", metadata: ["error": "\(error)"])
        }
    }

    /// Blocks the calling thread until the partitions have nothing in progress, or the grace passes.
    func waitForSettled(partitions: Set<Int32>?, grace: Duration) {
        let deadline = Date().addingTimeInterval(grace.seconds)
        while Date() < deadline {
            let busy = state.withLock { state in
                state.partitions.filter { partitions?.contains($0.key) ?? true }.values.reduce(0) { $0 + $1.inProgress }
            }
            if busy == 0 { return }
            settled.wait(until: min(deadline, Date().addingTimeInterval(0.05)))
        }
        logger.warning("grace period over with sends still in flight; they will be retried by the next owner")
    }

    // MARK: Commits

    /// Commits the finished progress of every partition not being revoked.
    func commitProgress() async {
        guard let consumer else { return }
        let points = state.withLock { state -> [(Int32, UInt64, CommitPoint)] in
            if state.commitsSuspended { return [] }
            return state.partitions.compactMap { number, partition -> (Int32, UInt64, CommitPoint)? in
                guard !partition.revoking, let point = partition.tracker.nextCommit() else { return nil }
                return (number, partition.epoch, point)
            }
        }
        guard !points.isEmpty else { return }
        let offsets = points.map {
            TopicPartitionOffset(topic: configuration.topics.messages, partition: $0.0, offset: $0.2.offset, metadata: $0.2.metadata)
        }
        do {
            try await consumer.commit(offsets)
            state.withLock { state in
                for (number, epoch, point) in points where state.partitions[number]?.epoch == epoch {
                    state.partitions[number]?.tracker.markCommitted(point)
                }
            }
        } catch {
            if Self.rebalanceErrors.contains(error.name) {
                // Wait for the rebalance callback (or 30 s) before committing or sending again.
                state.withLock { $0.commitsSuspendedUntil = .now + .seconds(30) }
                logger.info("rebalance under way: sends wait for the hand-over", metadata: ["error": "\(error.name)"])
            }
            // The next tick carries the same offsets (or higher), so a failed commit costs little.
            logger.debug("periodic commit failed", metadata: ["error": "\(error)"])
        }
    }
}

extension WorkerCore {
    static let rebalanceErrors: Set<String> = ["REBALANCE_IN_PROGRESS", "ILLEGAL_GENERATION", "UNKNOWN_MEMBER_ID"]
}
