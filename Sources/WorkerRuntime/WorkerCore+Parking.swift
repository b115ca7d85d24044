import BroadcastModel
import DeviceWorker
import Foundation
import Kafka
import Logging
import Synchronization

/// Parking: a device that cannot send for longer than `parkAfter` costs no memory per waiting
/// record and does not hold its partition's commit point back (docs/sleeping-devices.md).
///
/// Its records leave its lane and count as done once its parking record (`broadcast.devices`:
/// partition, lowest unhandled offset, wake time) is acknowledged; its later records are let go
/// the same way as they arrive. When it wakes, a reader of its own assigned to the same partition
/// reads it again from that offset and feeds the device's lane, skipping other devices' records,
/// until it reaches what the live consumer has delivered; from there the live consumer feeds the
/// lane as usual. Records read again report progress in the parking record, not in the tracker.
extension WorkerCore {
    /// Partitions read again at once; more wait their turn (each read is a consumer of its own).
    static let concurrentRewinds = 4

    /// The head of `dispatch`'s lane waits until `until`: it goes back to its lane, and the device
    /// is parked when that is far enough away (announced with a `retrying` event unless the caller
    /// wrote one already).
    func hold(_ dispatch: Dispatch<LaneItem>, until: Date, reason: String, announced: Bool = false) {
        // A campaign that allows it moves the message off a device that stays paused.
        if reroute(dispatch, pausedUntil: until, reason: reason) { return }
        var parking: DeviceStateRecord.Parking?
        putBack(dispatch, outcome: .hold(until: clock.instant(of: until), reason: reason)) { state in
            parking = park(dispatch.device, until: until, reason: reason, state: &state)
            if parking != nil { updateGate(&state) }  // its records left the lanes
        }
        guard let parking else { return }
        writeParking(of: dispatch.device, parking)
        // Visible where operators look: the head message waits, with why, and is not dropped
        // (`retrying` is not final; the device's later messages queue behind it).
        if !announced { publishStatus(event(dispatch, .retrying, at: Date(), reason: reason)) }
    }

    /// Under the lock: parks the device when its lane's head may not go before `until` and that is
    /// at least `parkAfter` away. Returns the parking to write, nil when the device stays in memory.
    func park(_ device: String, until: Date, reason: String, state: inout WorkerState) -> DeviceStateRecord.Parking? {
        guard let journal = deviceState, configuration.parkAfter > .zero, !state.stopping,
              until.timeIntervalSinceNow >= configuration.parkAfter.seconds, !DeviceStateHoldReason.all.contains(reason),
              state.scheduler.state(of: device) != .inFlight
        else { return nil }
        guard let records = state.scheduler.removeLane(device: device), let head = records.first else { return nil }
        let epoch = head.payload.epoch
        let known = state.parked[device]?.parking ?? journal.parking(of: device)
        let parking = journal.setParking(
            DeviceStateRecord.Parking(
                state: .parked, partition: head.partition, fromOffset: head.offset, wakeAt: until, reason: reason,
                revision: known?.revision ?? 0),
            for: device)
        // Records read again are done in the tracker already; those from the live consumer are
        // done once the parking record says where they are.
        state.parked[device] = ParkedDevice(
            parking: parking, epoch: epoch, phase: .writing,
            awaiting: records.filter { !$0.payload.rewound && $0.partition == head.partition }.map(\.offset))
        state.wakeSchedule.cancel(device)
        counters.parkedDevices.store(state.parked.count)
        logger.info("device parked", metadata: [
            "device": "\(device)", "reason": "\(reason)", "wakeAt": "\(Timestamp.format(until))",
            "records": "\(records.count)", "partition": "\(head.partition)", "fromOffset": "\(head.offset)",
        ])
        return parking
    }

    /// Under the lock, from `ingest`: a record of a parked device from the live consumer. Returns
    /// true when it was taken care of (let go, or kept for when the parking is acknowledged), and
    /// the parking to write when it lowered the device's offset.
    func intakeForParked(
        _ device: String, partition: Int32, offset: Int64, state: inout WorkerState
    ) -> (handled: Bool, rewrite: DeviceStateRecord.Parking?) {
        guard var parked = state.parked[device], parked.parking.partition == partition else { return (false, nil) }
        if parked.phase == .draining { return (false, nil) }
        if offset < parked.parking.fromOffset {
            // The committed offset was below the parked ones (a crash before the commit): the device
            // resumes from here, so nothing of it is read twice or skipped.
            let lowered = lowerParking(device, parked.parking, to: offset, epoch: parked.epoch, awaiting: parked.awaiting + [offset], state: &state)
            return (true, lowered)
        }
        if parked.phase == .writing {
            parked.awaiting.append(offset)
        } else if let index = state.partitions.index(forKey: partition) {
            try? state.partitions.values[index].tracker.markDone(offset)
        }
        state.parked[device] = parked
        return (true, nil)
    }

    /// Under the lock: the device's parking starts at `offset` now (records of it below the parked
    /// ones came first); written again, after which `awaiting` count as done. Returns it to write.
    private func lowerParking(
        _ device: String, _ parking: DeviceStateRecord.Parking, to offset: Int64, epoch: UInt64, awaiting: [Int64],
        state: inout WorkerState
    ) -> DeviceStateRecord.Parking {
        var lowered = parking
        lowered.fromOffset = min(parking.fromOffset, offset)
        lowered = deviceState?.setParking(lowered, for: device) ?? lowered
        state.parked[device] = ParkedDevice(parking: lowered, epoch: epoch, phase: .writing, awaiting: awaiting)
        state.wakeSchedule.cancel(device)
        return lowered
    }

    /// Writes the device's parking; once acknowledged, the records it covers are done.
    func writeParking(of device: String, _ parking: DeviceStateRecord.Parking) {
        writeState(of: device) { [self] acknowledged in
            // Not acknowledged only when stopping: the records stay unfinished for the next owner.
            guard acknowledged else { return }
            state.withLock { state in
                guard let parked = state.parked[device], parked.phase == .writing, parked.parking.revision == parking.revision,
                      let index = state.partitions.index(forKey: parked.parking.partition),
                      state.partitions.values[index].epoch == parked.epoch
                else { return }
                for offset in parked.awaiting { try? state.partitions.values[index].tracker.markDone(offset) }
                state.putToSleep(device, parked.parking, epoch: parked.epoch)
            }
            wakeDispatcher.signal()
        }
    }

    /// From the assignment: the partitions' devices parked by earlier owners sleep here now.
    func adoptParkedDevices(of partitions: [Int32], epoch: UInt64, state: inout WorkerState) {
        guard let journal = deviceState, configuration.parkAfter > .zero else { return }
        for partition in partitions {
            for (device, parking) in journal.parkedDevices(on: partition) {
                state.putToSleep(device, parking, epoch: epoch)
            }
        }
        counters.parkedDevices.store(state.parked.count)
    }

    /// Dispatcher thread: once the device state a timed-out assignment waited for is read, adopts
    /// the parked devices of those partitions. Records of such a device the live consumer delivered
    /// meanwhile (held: nothing sends until this ran) leave its lane, and its parking is lowered to
    /// them when they come before it, so its parked records still go first.
    func adoptLateParkedDevices() {
        guard adoptionOutstanding.load(ordering: .acquiring), let journal = deviceState, journal.isCurrent else { return }
        let rewrites = state.withLock { state -> [(String, DeviceStateRecord.Parking)] in
            var rewrites: [(String, DeviceStateRecord.Parking)] = []
            for (partition, epoch) in state.adoptionPending {
                guard let owned = state.partitions[partition], owned.epoch == epoch, !owned.revoking else {
                    state.adoptionPending.removeValue(forKey: partition)
                    continue
                }
                var done = true
                for (device, parking) in journal.parkedDevices(on: partition) where state.parked[device] == nil {
                    if state.scheduler.state(of: device) == .inFlight {
                        done = false  // a held head on its way back: next time
                        continue
                    }
                    let records = state.scheduler.removeLane(device: device)?.filter { $0.partition == partition } ?? []
                    guard let lowest = records.first?.offset else {
                        state.putToSleep(device, parking, epoch: epoch)
                        continue
                    }
                    rewrites.append((device, lowerParking(device, parking, to: lowest, epoch: epoch, awaiting: records.map(\.offset), state: &state)))
                }
                if done { state.adoptionPending.removeValue(forKey: partition) }
            }
            if state.adoptionPending.isEmpty { adoptionOutstanding.store(false, ordering: .releasing) }
            counters.parkedDevices.store(state.parked.count)
            updateGate(&state)
            return rewrites
        }
        for (device, parking) in rewrites { writeParking(of: device, parking) }
        if !rewrites.isEmpty { logger.info("parked devices adopted after the device state was read", metadata: ["devices": "\(rewrites.count)"]) }
    }

    /// From the revocation: the partitions' parked devices are the next owner's (their parking is on the topic).
    func dropParkedDevices(of partitions: Set<Int32>, state: inout WorkerState) -> [UInt64] {
        for (device, parked) in state.parked where partitions.contains(parked.parking.partition) {
            state.parked.removeValue(forKey: device)
            state.wakeSchedule.cancel(device)
        }
        var runs: [UInt64] = []
        for partition in partitions {
            if let run = state.rewinds.removeValue(forKey: partition) { runs.append(run.id) }
            state.wakesWaiting.removeValue(forKey: partition)
            state.adoptionPending.removeValue(forKey: partition)
        }
        if state.adoptionPending.isEmpty { adoptionOutstanding.store(false, ordering: .releasing) }
        counters.parkedDevices.store(state.parked.count)
        return runs
    }

    // MARK: Waking

    /// Dispatcher thread: starts a read of each partition where parked devices are due.
    func wakeParkedDevices() {
        adoptLateParkedDevices()
        let runs = state.withLock { state -> [RewindRun] in
            guard !state.stopping else { return [] }
            let due = state.wakeSchedule.takeDue(now: Date().timeIntervalSince1970)
            var byPartition: [Int32: Set<String>] = [:]
            for device in due {
                guard let parked = state.parked[device], parked.phase == .asleep else { continue }
                byPartition[parked.parking.partition, default: []].insert(device)
            }
            for (partition, devices) in state.wakesWaiting where state.rewinds[partition] == nil && state.rewinds.count < Self.concurrentRewinds {
                byPartition[partition, default: []].formUnion(devices)
                state.wakesWaiting.removeValue(forKey: partition)
            }
            return byPartition.compactMap { partition, devices in startRun(partition: partition, devices: devices, state: &state) }
        }
        for run in runs { read(run) }
    }

    /// Under the lock: the run for these devices, or nil when one is under way on the partition
    /// (they wait for it to end) or the partition is not ours.
    private func startRun(partition: Int32, devices: Set<String>, state: inout WorkerState) -> RewindRun? {
        guard let owned = state.partitions[partition], !owned.revoking else { return nil }
        let waking = devices.filter { state.parked[$0]?.phase == .asleep }
        guard !waking.isEmpty else { return nil }
        if state.rewinds[partition] != nil || state.rewinds.count >= Self.concurrentRewinds {
            state.wakesWaiting[partition, default: []].formUnion(waking)
            return nil
        }
        state.nextRewindId &+= 1
        let from = waking.compactMap { state.parked[$0]?.parking.fromOffset }.min() ?? 0
        let run = RewindRun(id: state.nextRewindId, partition: partition, epoch: owned.epoch, from: from, devices: waking)
        for device in waking { state.parked[device]?.phase = .rewinding(run.id) }
        state.rewinds[partition] = run
        return run
    }

    /// Reads the run's partition from its offset on a consumer of its own until it catches up
    /// with the live consumer.
    private func read(_ run: RewindRun) {
        // Checked before any fetch: when nothing lies between the offset and the live position,
        // the devices are released at once.
        guard advance(run, records: [], readUpTo: run.from) == .reading else { return }
        guard let configuration = rewindConfiguration else {
            endRun(run, retryIn: 5)
            return
        }
        var created: KafkaConsumer?
        do {
            let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
            created = consumer
            rewindConsumers.withLock { $0[run.id] = consumer }
            try consumer.assign([TopicPartitionOffset(topic: self.configuration.topics.messages, partition: run.partition, offset: run.from)])
        } catch {
            if let created {
                rewindConsumers.withLock { _ = $0.removeValue(forKey: run.id) }
                Task { await created.close() }
            }
            logger.error("could not read parked records again; the devices wake again shortly", metadata: ["partition": "\(run.partition)", "error": "\(error)"])
            endRun(run, retryIn: 5)
            return
        }
        guard let consumer = created else { return }
        logger.info("waking parked devices", metadata: ["partition": "\(run.partition)", "devices": "\(run.devices.count)", "fromOffset": "\(run.from)"])
        Task { [self] in
            for await event in consumer.events {
                guard case .messages(let batch) = event else { continue }
                if rewound(batch, run: run) != .reading { break }
                // Under backpressure the run waits like the live consumer does.
                while state.withLock({ $0.gate.isPaused && $0.rewinds[run.partition]?.id == run.id }) {
                    try? await Task.sleep(for: .milliseconds(50))
                }
            }
            await consumer.close()
            rewindConsumers.withLock { _ = $0.removeValue(forKey: run.id) }
            wakeDispatcher.signal()
        }
    }

    enum RewindProgress: Equatable { case reading, caughtUp, abandoned }

    /// Feeds one batch of a run to the lanes of its waking devices.
    private func rewound(_ batch: ConsumerBatch, run: RewindRun) -> RewindProgress {
        // Outside the lock: only the waking devices' records are decoded, the rest are passed over.
        var records: [(offset: Int64, message: BroadcastMessage)] = []
        var readUpTo = run.from
        for record in batch where record.partition == run.partition {
            readUpTo = max(readUpTo, record.offset + 1)
            guard let key = record.keyString, run.devices.contains(key),
                  case .accept(let message) = RecordIntake.examine(record)  // a dead letter was sent on first read
            else { continue }
            records.append((record.offset, message))
        }
        return advance(run, records: records, readUpTo: readUpTo)
    }

    /// Under the lock: enqueues what lies below the live consumer's position, and ends the run
    /// (releasing its devices to the live consumer) once the read reached that position.
    private func advance(_ run: RewindRun, records: [(offset: Int64, message: BroadcastMessage)], readUpTo: Int64) -> RewindProgress {
        var releases: [String] = []
        let progress = state.withLock { state -> RewindProgress in
            guard state.rewinds[run.partition]?.id == run.id, let index = state.partitions.index(forKey: run.partition),
                  state.partitions.values[index].epoch == run.epoch, !state.partitions.values[index].revoking
            else { return .abandoned }
            let live = state.partitions.values[index].tracker.nextExpected
            let now = clock.now
            for (offset, message) in records {
                guard offset < live else { break }
                let device = message.deviceId
                guard var parked = state.parked[device], parked.phase == .rewinding(run.id), offset >= parked.parking.fromOffset else { continue }
                enqueue(message, partition: run.partition, offset: offset, payload: LaneItem(message: message, epoch: run.epoch, rewound: true), now: now, state: &state)
                parked.rewoundInLane += 1
                state.parked[device] = parked
            }
            updateGate(&state)
            guard readUpTo >= live else { return .reading }
            // Caught up: what the live consumer delivers from here goes to the lanes as usual.
            for device in run.devices {
                guard var parked = state.parked[device], parked.phase == .rewinding(run.id) else { continue }
                if parked.rewoundInLane > 0 {
                    parked.phase = .draining
                    state.parked[device] = parked
                } else if release(device, from: live, state: &state) != nil {
                    releases.append(device)
                }
            }
            state.rewinds.removeValue(forKey: run.partition)
            return .caughtUp
        }
        // Not tied to an offset: the device's next send writes its state again before its offset is done.
        for device in releases { writeState(of: device) { _ in } }
        if progress == .caughtUp {
            logger.info("parked devices woke", metadata: ["partition": "\(run.partition)", "devices": "\(run.devices.count)"])
            wakeDispatcher.signal()
        }
        return progress
    }

    /// Under the lock: the device is no longer parked; returns its released parking to write.
    private func release(_ device: String, from offset: Int64, state: inout WorkerState) -> DeviceStateRecord.Parking? {
        guard var parking = state.parked.removeValue(forKey: device)?.parking else { return nil }
        parking.state = .released
        parking.fromOffset = max(parking.fromOffset, offset)
        counters.parkedDevices.store(state.parked.count)
        return deviceState?.setParking(parking, for: device)
    }

    /// A record read again is finished: the device's parking moves past it (and is released when
    /// it was the last). Under the lock; the caller writes the device's state.
    func rewoundFinished(_ dispatch: Dispatch<LaneItem>, state: inout WorkerState) {
        let device = dispatch.device
        guard var parked = state.parked[device], parked.phase == .draining || parked.phase.isRewinding else { return }
        parked.rewoundInLane = max(0, parked.rewoundInLane - 1)
        parked.parking.fromOffset = max(parked.parking.fromOffset, dispatch.offset + 1)
        if parked.phase == .draining, parked.rewoundInLane == 0 {
            state.parked[device] = parked
            _ = release(device, from: dispatch.offset + 1, state: &state)
            return
        }
        parked.parking = deviceState?.setParking(parked.parking, for: device) ?? parked.parking
        state.parked[device] = parked
    }

    /// A run could not start: its devices sleep again and wake after `seconds`.
    private func endRun(_ run: RewindRun, retryIn seconds: Double) {
        state.withLock { state in
            guard state.rewinds[run.partition]?.id == run.id else { return }
            state.rewinds.removeValue(forKey: run.partition)
            for device in run.devices {
                guard let parked = state.parked[device], parked.phase == .rewinding(run.id) else { continue }
                state.putToSleep(device, parked.parking, epoch: parked.epoch, wake: Date().addingTimeInterval(seconds))
            }
        }
    }

    /// Stops the reads of runs given up (revoked partitions, shutdown).
    func closeRewinds(_ ids: [UInt64]?) {
        let consumers = rewindConsumers.withLock { consumers in
            ids.map { $0.compactMap { consumers[$0] } } ?? Array(consumers.values)
        }
        for consumer in consumers { Task { await consumer.close() } }
    }
}

extension ParkedDevice.Phase {
    var isRewinding: Bool {
        if case .rewinding = self { return true }
        return false
    }
}
