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
    let deviceState: (any DeviceStateJournal)?
    let logger: Logger
    let clock = MonotonicClock()
    let counters: WorkerCounters
    let state: Mutex<WorkerState>
    let wakeDispatcher = DispatchSignal()
    /// Revocation and shutdown wait on this for in-progress records to settle.
    let settled = DispatchSignal()
    let consumerRef = Mutex<KafkaConsumer?>(nil)
    /// Held around every offset commit (see `commitProgress(control:)`).
    let commitGate = Mutex<Void>(())
    /// Devices whose state record is being written, with the sends that wait for the next one
    /// (see `writeState(of:settle:)`).
    let stateWrites = Mutex<[String: [@Sendable (Bool) -> Void]]>([:])
    /// How readers of parked devices' records connect (the messages consumer's settings, no group);
    /// nil never parks.
    let rewindConfiguration: ConsumerConfiguration?
    /// Those readers, by run id, so a revocation or shutdown can stop them.
    let rewindConsumers = Mutex<[UInt64: KafkaConsumer]>([:])
    /// Some partitions' parked devices wait to be adopted (see `adoptLateParkedDevices`): sends
    /// hold until they are. Read by every send, so an atomic.
    let adoptionOutstanding = Atomic<Bool>(false)

    init(
        configuration: WorkerConfiguration, producer: KafkaProducer, senders: any SenderDirectory, policy: any SendPolicy,
        logger: Logger, deviceState: (any DeviceStateJournal)? = nil, rewindConfiguration: ConsumerConfiguration? = nil
    ) throws {
        self.configuration = configuration
        self.rewindConfiguration = deviceState == nil ? nil : rewindConfiguration
        self.deviceState = deviceState
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
        var parkings: [(device: String, parking: DeviceStateRecord.Parking)] = []
        let parking = deviceState != nil && configuration.parkAfter > .zero
        // A record scheduled at least this far ahead parks its device (one clock read per batch).
        let parkHorizon = parking ? Date().addingTimeInterval(configuration.parkAfter.seconds) : .distantFuture
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
                    if parking, !state.parked.isEmpty {
                        let (handled, rewrite) = intakeForParked(message.deviceId, partition: item.partition, offset: item.offset, state: &state)
                        if let rewrite { parkings.append((message.deviceId, rewrite)) }
                        if handled { continue }
                    }
                    enqueue(message, partition: item.partition, offset: item.offset, payload: LaneItem(message: message, epoch: epoch), now: now, state: &state)
                    // Scheduled far ahead: parked at once rather than held.
                    if message.scheduledAt >= parkHorizon, case .waiting(let due, .scheduled)? = state.scheduler.state(of: message.deviceId),
                       let parked = park(message.deviceId, until: Date(timeIntervalSinceNow: due - now), reason: "scheduled", state: &state) {
                        parkings.append((message.deviceId, parked))
                    }
                case .deadLetter:
                    state.partitions.values[index].inProgress += 1
                    state.awaitingAcknowledgement += 1
                    deadLetters.append((item.partition, item.offset, epoch, item.verdict))
                }
            }
            updateGate(&state)
        }
        for (device, parking) in parkings { writeParking(of: device, parking) }
        for letter in deadLetters {
            deadLetter(partition: letter.partition, offset: letter.offset, epoch: letter.epoch, verdict: letter.verdict)
        }
        wakeDispatcher.signal()
    }

    /// Under the lock: a record into its device's lane. A lane made for it is paced from the device's
    /// real last send when the device state knows it (asked only then: a taken-over device).
    func enqueue(_ message: BroadcastMessage, partition: Int32, offset: Int64, payload: LaneItem, now: Double, state: inout WorkerState) {
        let lastSend = deviceState.flatMap { journal in
            state.scheduler.hasLane(for: message.deviceId) ? nil : journal.lastSend(of: message.deviceId).map(clock.instant(of:))
        }
        state.scheduler.enqueue(
            partition: partition, offset: offset, device: message.deviceId, payload: payload,
            notBefore: clock.instant(of: message.scheduledAt),
            minDelay: message.delay.minSeconds, maxDelay: message.delay.maxSeconds, now: now, lastSendAt: lastSend
        )
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
            let committed = startingPoints(mine, control: control)
            // The previous owners' device state was acknowledged before their offsets were
            // committed: read up to now, the first send here knows each device's caps and pauses.
            var stateCurrent = true
            if let deviceState, !mine.isEmpty {
                let started = ContinuousClock.now
                let current = deviceState.catchUp(timeout: configuration.deviceStateLoadTimeout)
                let metadata: Logger.Metadata = ["waited": "\(ContinuousClock.now - started)"]
                if current {
                    logger.info("device state read", metadata: metadata)
                } else {
                    logger.warning("device state not read to its end in time; sends hold until it is", metadata: metadata)
                }
                stateCurrent = current
            }
            state.withLock { state in
                for partition in mine {
                    var start = committed[partition.partition].map { (offset: $0.offset, metadata: $0.metadata ?? "") }
                    // Our own record of the partition is newer when our hand-over commit did not
                    // land: nobody owned it since (the record lives one rebalance only), and at the
                    // same offset our metadata may list more done offsets than the group's.
                    if let known = state.retired.removeValue(forKey: partition.partition), known.offset >= (start?.offset ?? -1) {
                        start = known
                    }
                    let tracker = OffsetTracker.resume(committed: start?.offset ?? KafkaOffset.invalid, metadata: start?.metadata)
                    state.partitions[partition.partition] = PartitionState(tracker: tracker, epoch: event.epoch)
                }
                // Read above, with the rest of the device state: parked by earlier owners, asleep here now.
                if stateCurrent {
                    adoptParkedDevices(of: mine.map(\.partition), epoch: event.epoch, state: &state)
                } else if deviceState != nil, configuration.parkAfter > .zero {
                    for partition in mine { state.adoptionPending[partition.partition] = event.epoch }
                    adoptionOutstanding.store(true, ordering: .releasing)
                }
                // Under the lock, like every other pause and resume (see `updateGate`).
                if state.gate.isPaused { consumer?.pause(mine) }
            }
            logger.info("took over partitions", metadata: ["partitions": "\(mine.map(\.partition))"])
        case .revoked:
            let numbers = Set(mine.map(\.partition))
            let runs = state.withLock { state in
                for number in numbers {
                    state.partitions[number]?.revoking = true
                    _ = state.scheduler.revoke(partition: number)
                }
                return dropParkedDevices(of: numbers, state: &state)
            }
            closeRewinds(runs)
            // A lost assignment waits too: a send in flight has reached the provider, so its outcome
            // belongs in what is handed back (librdkafka reports a commit refused with
            // ILLEGAL_GENERATION as a lost assignment, e.g. when a broker bumps the generation as a
            // member leaves, before this worker heard of the rebalance).
            let started = ContinuousClock.now
            waitForSettled(partitions: numbers, grace: revocationGrace)
            logger.debug("revocation waited for sends in flight", metadata: ["waited": "\(ContinuousClock.now - started)"])
            // Serialised with periodic commits: none taken before the revocation can land after it.
            commitGate.withLock { _ in
                let (points, unsaved) = state.withLock { state in
                    let points = numbers.compactMap { number -> (Int32, CommitPoint)? in
                        guard let point = state.partitions.removeValue(forKey: number)?.tracker.handOverCommit() else { return nil }
                        return (number, point)
                    }
                    return (points, state.takeUnsavedDevices())
                }
                // Without the state of the sends it covers, nothing is committed or handed back:
                // the next owner sends those records again rather than trust a count that lacks them.
                guard saveDeviceStates(unsaved, within: max(.seconds(1), revocationGrace)) else {
                    logger.warning("partitions handed over without a commit: device state not acknowledged", metadata: ["partitions": "\(numbers.sorted())"])
                    return
                }
                if event.lost {
                    // The generation is gone, so the commit waits for the next one (`handBack`).
                    remember(points)
                    logger.warning("partitions lost without a hand-over; progress is handed back after the rebalance", metadata: ["partitions": "\(numbers.sorted())"])
                    return
                }
                do {
                    // Always committed, even when unchanged: the hand-over mark tells the next owner
                    // that nothing more is coming, so it starts at once.
                    try control.commit(points.map {
                        TopicPartitionOffset(topic: configuration.topics.messages, partition: $0.0, offset: $0.1.offset, metadata: $0.1.metadata)
                    })
                } catch {
                    remember(points)
                    logger.warning("commit before hand-over refused; progress is handed back after the rebalance", metadata: ["error": "\(error)"])
                }
            }
            updateBackpressure()
            logger.info("handed over partitions", metadata: ["partitions": "\(numbers.sorted())"])
        }
    }

    /// Keeps what this worker knew of partitions whose hand-over commit did not land.
    private func remember(_ points: [(Int32, CommitPoint)]) {
        state.withLock { state in
            for (number, point) in points { state.retired[number] = (point.offset, point.metadata) }
        }
    }

    /// While stopping, a revocation waits only for what is left of the shutdown budget.
    private var revocationGrace: Duration {
        guard let remaining = state.withLock({ $0.shutdownDeadline.map { $0 - .now } }) else { return configuration.revokeGrace }
        return max(.zero, min(configuration.revokeGrace, remaining))
    }

    /// Where each assigned partition resumes: the group's committed offset and metadata. An owner's
    /// revocation commit carries the hand-over mark, so on a broker that accepts it (Kafka does,
    /// with the current generation) the new owner starts at once. Without the mark the previous
    /// owner's commit may have been refused (librdkafka's mock cluster refuses commits while a
    /// group joins) and that owner hands its progress back after the rebalance: wait for it, up to
    /// `handOverSettleDelay`. Partitions never committed, or last given up by this worker, do not wait.
    private func startingPoints(_ partitions: [TopicPartition], control: ConsumerControl) -> [Int32: TopicPartitionOffset] {
        let ours = state.withLock { Set($0.retired.keys) }
        let started = ContinuousClock.now
        var result: [Int32: TopicPartitionOffset] = [:]
        var pending = partitions
        while !pending.isEmpty {
            do {
                for offset in try control.committed(pending) { result[offset.partition] = offset }
            } catch {
                // Fetching still starts at the committed offset; only the metadata's skip list is lost.
                logger.warning("could not read committed offsets; finished records above them may be sent again", metadata: ["error": "\(error)"])
                return result
            }
            pending = pending.filter { partition in
                guard !ours.contains(partition.partition), let offset = result[partition.partition], offset.offset >= 0 else { return false }
                return !CommitMetadata.isHandOver(offset.metadata ?? "", base: offset.offset)
            }
            guard !pending.isEmpty, ContinuousClock.now - started < configuration.handOverSettleDelay else { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let waited = ContinuousClock.now - started
        if waited > .milliseconds(150) {
            logger.info("waited for previous owners to hand back progress", metadata: [
                "waited": "\(waited)", "withoutHandBack": "\(pending.map(\.partition))",
            ])
        }
        return result
    }

    /// Commits, with the new generation, what this worker finished on partitions it gave up when the
    /// rebalance refused its hand-over commit (an eager revocation runs while the group is already
    /// joining on some brokers, librdkafka's mock among them) or the assignment was lost. Kafka
    /// accepts a commit from any member of the current generation; it never moves a partition back,
    /// and carries the hand-over mark the new owner waits for (`startingPoints`). Nothing to do when
    /// the commit landed.
    private func handBack(keeping owned: Set<Int32>, control: ConsumerControl) {
        let retired = state.withLock { state in
            state.retired.filter { !owned.contains($0.key) }
        }
        guard !retired.isEmpty else { return }
        let topic = configuration.topics.messages
        do {
            let committed = try control.committed(retired.keys.map { TopicPartition(topic: topic, partition: $0) })
            let ahead = committed.compactMap { current -> TopicPartitionOffset? in
                // At the same offset ours is the newer record (marked, and it may list more done offsets).
                guard let known = retired[current.partition], known.offset >= current.offset,
                      known.offset > current.offset || known.metadata != (current.metadata ?? "")
                else { return nil }
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
        guard let control = consumer?.control else { return }
        await offloadWait { [self] in commitProgress(control: control) }
    }

    /// Blocking: takes what to commit and commits it under `commitGate`, so a revocation's commit
    /// never lands before one taken earlier (which would move the partition back).
    private func commitProgress(control: ConsumerControl) {
        commitGate.withLock { _ in
            let (points, unsaved) = state.withLock { state -> ([(Int32, UInt64, CommitPoint)], Set<String>) in
                if state.commitsSuspended { return ([], []) }
                let points = state.partitions.compactMap { number, partition -> (Int32, UInt64, CommitPoint)? in
                    guard !partition.revoking, let point = partition.tracker.nextCommit() else { return nil }
                    return (number, partition.epoch, point)
                }
                return (points, state.takeUnsavedDevices())
            }
            // The checkpoint: every send these points cover finished before the devices were taken.
            guard saveDeviceStates(unsaved, within: Self.checkpointLimit), !points.isEmpty else { return }
            let offsets = points.map {
                TopicPartitionOffset(topic: configuration.topics.messages, partition: $0.0, offset: $0.2.offset, metadata: $0.2.metadata)
            }
            do throws(KafkaError) {
                try control.commit(offsets)
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
}

extension WorkerCore {
    /// How long a periodic commit waits for its checkpoint's records; past it, the next one tries again.
    static let checkpointLimit: Duration = .seconds(10)
    static let rebalanceErrors: Set<String> = ["REBALANCE_IN_PROGRESS", "ILLEGAL_GENERATION", "UNKNOWN_MEMBER_ID"]
}
