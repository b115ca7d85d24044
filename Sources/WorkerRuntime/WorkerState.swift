import Foundation
import BroadcastModel
import DeviceWorker
import Kafka

/// A lane's payload: the decoded message and the ownership epoch of its partition when it arrived.
struct LaneItem: Sendable {
    let message: BroadcastMessage
    let epoch: UInt64
    /// Read again for a device waking from parking: its offset is already done in the partition's
    /// tracker, and its progress is the device's parking record instead.
    var rewound = false
}

/// A device whose waiting records are on the log, not in a lane (see `WorkerCore+Parking`).
struct ParkedDevice: Sendable {
    enum Phase: Sendable, Equatable {
        /// Its parking record is being written; `awaiting` offsets are done once it is acknowledged.
        case writing
        /// Nothing of it is in memory; it wakes at `parking.wakeAt`.
        case asleep
        /// The rewind run with this id reads its partition again and feeds its lane.
        case rewinding(UInt64)
        /// The run passed the live position: the lane finishes the records read again, then the
        /// device is released.
        case draining
    }

    var parking: DeviceStateRecord.Parking
    let epoch: UInt64
    var phase: Phase
    var awaiting: [Int64] = []
    /// Records read again that are in its lane, not finished yet.
    var rewoundInLane = 0
}

/// One read of a partition again, from the lowest parked offset of the devices waking on it.
struct RewindRun: Sendable {
    let id: UInt64
    let partition: Int32
    let epoch: UInt64
    let from: Int64
    let devices: Set<String>
}

/// What the worker knows about one partition it owns.
struct PartitionState: Sendable {
    var tracker: OffsetTracker
    /// The consumer's assignment epoch when this ownership began; older batches are stale.
    let epoch: UInt64
    /// Records taken out of their lanes (sending, or waiting for their final event's acknowledgement).
    var inProgress = 0
    /// Being revoked: nothing new is accepted.
    var revoking = false
}

/// Everything the worker mutates, behind one lock shared by the consumer thread, the dispatcher,
/// send tasks and the producer's delivery thread. Each holds it only for short, non-blocking steps.
struct WorkerState: Sendable {
    var scheduler: LaneScheduler<LaneItem>
    var partitions: [Int32: PartitionState] = [:]
    var gate: BackpressureGate
    var stopping = false
    /// Periodic commits wait while the group rebalances: librdkafka treats a commit refused with
    /// ILLEGAL_GENERATION as a lost assignment, which would skip the clean hand-over.
    var commitsSuspendedUntil: ContinuousClock.Instant?
    var commitsSuspended: Bool { commitsSuspendedUntil.map { ContinuousClock.now < $0 } ?? false }
    /// What this worker knew of partitions it gave up whose hand-over commit was refused or lost
    /// (commit point and done offsets above it): handed back after the rebalance, or resumed from
    /// if the partition comes back before anyone committed further. Empty on a broker that accepts
    /// the revocation's commit.
    var retired: [Int32: (offset: Int64, metadata: String)] = [:]
    /// Set when a graceful stop begins: every step of the shutdown ends by then.
    var shutdownDeadline: ContinuousClock.Instant?
    /// Records out of their lanes whose final status event or dead letter Kafka has not acknowledged
    /// yet. Counted with the held records for backpressure, so a slow status topic slows fetching
    /// instead of growing the producer's queue.
    var awaitingAcknowledgement = 0
    /// Devices that sent since the last checkpoint took them: the next commit writes their state
    /// first (see `WorkerCore+DeviceState`).
    var unsavedDevices: Set<String> = []
    /// Parked devices of owned partitions, their wake-up timers (Unix seconds), the partition reads
    /// under way (at most one per partition) and devices that woke while their partition's read ran.
    var parked: [String: ParkedDevice] = [:]
    var wakeSchedule = WakeSchedule()
    var rewinds: [Int32: RewindRun] = [:]
    var wakesWaiting: [Int32: Set<String>] = [:]
    var nextRewindId: UInt64 = 0
    /// Partitions (with their epoch) assigned before the device state was read to its end: their
    /// parked devices are adopted once it is, and their sends wait until then.
    var adoptionPending: [Int32: UInt64] = [:]

    /// The device sleeps, nothing of it in memory, until `wake` (its parking's wake time by default).
    mutating func putToSleep(_ device: String, _ parking: DeviceStateRecord.Parking, epoch: UInt64, wake: Date? = nil) {
        parked[device] = ParkedDevice(parking: parking, epoch: epoch, phase: .asleep)
        wakeSchedule.schedule(device, at: (wake ?? parking.wakeAt).timeIntervalSince1970)
    }

    /// The devices a checkpoint saves now; later sends start the next set.
    mutating func takeUnsavedDevices() -> Set<String> {
        defer { unsavedDevices = [] }
        return unsavedDevices
    }

    var inProgressTotal: Int { partitions.values.reduce(0) { $0 + $1.inProgress } }

    /// Marks a record settled: done in its tracker (when `done`) and no longer in progress.
    /// Mutates in place: a copy of the partition's state would copy its tracker's buffers.
    mutating func settle(partition: Int32, offset: Int64, epoch: UInt64, done: Bool) {
        guard let index = partitions.index(forKey: partition), partitions.values[index].epoch == epoch else { return }
        if done { try? partitions.values[index].tracker.markDone(offset) }
        partitions.values[index].inProgress -= 1
    }
}
