import DequeModule

/// One queued record inside a lane.
struct LaneEntry<Payload: Sendable>: Sendable {
    enum Wait: Sendable {
        case retry(until: Double)
        case hold(until: Double, reason: String)
    }

    let partition: Int32
    let offset: Int64
    let payload: Payload
    let notBefore: Double?
    let minDelay: Double
    let maxDelay: Double
    var attempt = 1
    /// Set by `.retry` / `.hold`; cleared when the head is dispatched again.
    var wait: Wait?
}

enum LanePhase: Sendable, Equatable {
    /// No entries and nothing in flight.
    case idle
    /// The head is due at `due`; `token` identifies its timer entry (older ones are stale).
    case waiting(token: UInt64, due: Double, reason: WaitReason)
    case inFlight
}

/// A device's FIFO of records plus its pacer.
struct Lane<Payload: Sendable>: Sendable {
    let device: String
    var entries = Deque<LaneEntry<Payload>>()
    var pacer: DevicePacer
    var phase = LanePhase.idle
    /// Partition of the latest enqueue: revoking it may free the lane.
    var partition: Int32
    /// The in-flight head belongs to a revoked partition.
    var headRevoked = false
    /// Free the lane when its revoked head completes (nothing else is queued).
    var evictWhenIdle = false
    /// False for a freed slot awaiting reuse.
    private(set) var isActive = true

    /// Placeholder stored in a freed slot: idle, so any timer still naming the slot is stale.
    static var vacant: Lane {
        var lane = Lane(device: "", partition: -1, pacer: DevicePacer())
        lane.isActive = false
        return lane
    }

    init(device: String, partition: Int32, pacer: DevicePacer) {
        self.device = device
        self.partition = partition
        self.pacer = pacer
    }
}

/// Heap entry: ordered by due time, then token (arrival order) so equal instants dispatch
/// deterministically.
struct TimerEntry: Comparable, Sendable {
    let due: Double
    let token: UInt64
    let slot: Int

    static func < (lhs: TimerEntry, rhs: TimerEntry) -> Bool {
        lhs.due != rhs.due ? lhs.due < rhs.due : lhs.token < rhs.token
    }
}
