import HeapModule

/// The device worker's core: records of assigned partitions split into per-device FIFO lanes,
/// one message in flight per lane, each lane paced by its own `DevicePacer`.
///
/// Pure and synchronous: no I/O, no clock reads. **Time** is `Double` seconds of a monotonic
/// clock chosen by the caller (the runtime: seconds since a `ContinuousClock.Instant` taken at
/// start; tests: fixed values). Wall-clock times such as `scheduledAt` or quiet-hour ends must be
/// converted by the runtime (`now + (date - Date())`). Randomness comes from the generator given
/// at `init`, so runs with a seeded generator are reproducible.
///
/// Cost: `enqueue`, `complete`, and each dispatch of `takeDue` are O(log n) (a min-heap of lane
/// timers with lazy deletion); `nextWakeUp` and `heldCount` are O(1); `revoke` is
/// O(records and lanes of that partition).
public struct LaneScheduler<Payload: Sendable>: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// A lane created for a device (first record since assignment) paces its first send as if
        /// the device had just sent at that moment: the previous owner may have sent a moment ago.
        /// Turn off only where no other worker can have sent (tests, benchmarks).
        public var paceFirstSendFromTakeover: Bool

        public init(paceFirstSendFromTakeover: Bool = true) {
            self.paceFirstSendFromTakeover = paceFirstSendFromTakeover
        }
    }

    public let configuration: Configuration
    private var random: any RandomNumberGenerator & Sendable
    /// Lanes in slots so timers refer to them by index; freed slots hold an inactive lane and
    /// are reused. (Not optionals: reading one field of an optional element copies the whole lane.)
    private var lanes: [Lane<Payload>] = []
    private var slotByDevice: [String: Int] = [:]
    private var freeSlots: [Int] = []
    /// Slots of lanes that received records of a partition (may hold stale slots; checked on use).
    private var slotsByPartition: [Int32: Set<Int>] = [:]
    private var timers = Heap<TimerEntry>()
    /// Timer entries that still match their lane (the rest of the heap is stale).
    private var liveTimers = 0
    private var nextToken: UInt64 = 0

    /// Records held in memory (queued or in flight), for backpressure.
    public private(set) var heldCount = 0
    /// Lanes with a message in flight.
    public private(set) var inFlightCount = 0

    public init(
        configuration: Configuration = Configuration(),
        random: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) {
        self.configuration = configuration
        self.random = random
    }

    /// Lanes currently known (including idle ones that only remember their last send).
    public var laneCount: Int { slotByDevice.count }

    /// Earliest instant a waiting lane becomes due (may be in the past: call `takeDue` now);
    /// nil when no lane waits on a finite instant.
    public var nextWakeUp: Double? { timers.min?.due }

    public func state(of device: String) -> LaneState? {
        guard let slot = slotByDevice[device] else { return nil }
        let phase = lanes[slot].phase
        switch phase {
        case .idle: return .idle
        case .inFlight: return .inFlight
        case let .waiting(_, due, reason): return .waiting(until: due, reason: reason)
        }
    }

    /// Records queued for `device`, including one in flight.
    public func queuedCount(of device: String) -> Int {
        slotByDevice[device].map { lanes[$0].entries.count } ?? 0
    }

    /// Adds a record at the tail of its device's lane. Call in offset order per partition.
    /// - Parameters:
    ///   - notBefore: earliest send instant (`scheduledAt` converted to monotonic seconds).
    ///   - minDelay, maxDelay: the gap since the device's previous send (seconds).
    ///   - now: used only when this creates the lane (takeover pacing).
    ///   - lastSendAt: the device's last send known from elsewhere (a previous owner), used only
    ///     when this creates the lane: its first send is paced from it instead of from `now`.
    public mutating func enqueue(
        partition: Int32,
        offset: Int64,
        device: String,
        payload: Payload,
        notBefore: Double? = nil,
        minDelay: Double,
        maxDelay: Double,
        now: Double,
        lastSendAt: Double? = nil
    ) {
        let entry = LaneEntry(partition: partition, offset: offset, payload: payload,
                              notBefore: notBefore, minDelay: minDelay, maxDelay: maxDelay)
        let slot = slotByDevice[device] ?? makeLane(device: device, partition: partition, now: now, lastSendAt: lastSendAt)
        if lanes[slot].partition != partition || lanes[slot].evictWhenIdle {
            slotsByPartition[partition, default: []].insert(slot)
        }
        lanes[slot].partition = partition
        lanes[slot].evictWhenIdle = false
        lanes[slot].entries.append(entry)
        heldCount += 1
        if lanes[slot].phase == .idle { scheduleHead(slot) }
        pruneTimers()
    }

    /// Marks in flight and returns the head of every lane due at `now` (at most one per lane,
    /// at most `limit` in total, earliest first). Each must later get exactly one `complete`.
    public mutating func takeDue(now: Double, limit: Int = .max) -> [Dispatch<Payload>] {
        var dispatches: [Dispatch<Payload>] = []
        while dispatches.count < limit, let top = timers.min, top.due <= now {
            timers.popMin()
            // Read fields, not the whole lane: a copy of it would force a copy-on-write of its queue.
            guard isLive(top), let head = lanes[top.slot].entries.first else { continue }
            let device = lanes[top.slot].device
            lanes[top.slot].entries.modifyFirst { $0.wait = nil }
            setPhase(top.slot, .inFlight)
            dispatches.append(Dispatch(partition: head.partition, offset: head.offset, device: device,
                                       payload: head.payload, attempt: head.attempt))
        }
        pruneTimers()
        return dispatches
    }

    /// Reports the outcome of the in-flight message of `device` (see `LaneOutcome`).
    /// - Throws: `.notInFlight` if `device` has nothing in flight (a double or stray completion).
    @discardableResult
    public mutating func complete(
        device: String,
        outcome: LaneOutcome,
        now: Double
    ) throws(LaneSchedulerError) -> CompletionResult {
        guard let slot = slotByDevice[device], lanes[slot].phase == .inFlight, let head = lanes[slot].entries.first
        else { throw .notInFlight(device: device) }
        let revoked = lanes[slot].headRevoked
        var finished: CompletionResult?
        switch outcome {
        case let .done(sent):
            if sent { lanes[slot].pacer.recordSend(at: now) } else { lanes[slot].pacer.discardDraw() }
            removeHead(slot)
            finished = .finished(partition: head.partition, offset: head.offset)
        case _ where revoked:
            // Its partition is gone: the next owner handles the record; this lane moves on.
            lanes[slot].pacer.discardDraw()
            removeHead(slot)
            finished = .abandoned(partition: head.partition, offset: head.offset)
        case let .retry(after), let .retryAfterUnknownOutcome(after):
            if case .retryAfterUnknownOutcome = outcome { lanes[slot].pacer.recordSend(at: now) }
            let until = now + (after.isNaN ? 0 : Swift.max(0, after))
            lanes[slot].entries.modifyFirst {
                $0.attempt += 1
                $0.wait = .retry(until: until)
            }
        case let .hold(until, reason):
            let holdUntil = until.isNaN ? now : until
            lanes[slot].entries.modifyFirst { $0.wait = .hold(until: holdUntil, reason: reason) }
        }
        setPhase(slot, .idle)
        if !lanes[slot].entries.isEmpty {
            scheduleHead(slot)
        } else if lanes[slot].evictWhenIdle {
            freeLane(slot)
        }
        pruneTimers()
        if let finished { return finished }
        // The head stayed; pacing or `notBefore` may make it due later than the retry/hold instant.
        guard case let .waiting(_, due, _) = lanes[slot].phase else { return .waiting(until: now) }
        return .waiting(until: due)
    }

    /// The partition is being taken away: drops its queued records and reports its in-flight
    /// ones (their lanes keep them until `complete`, so no device gets two sends at once).
    /// Lanes left with nothing are forgotten; if the partition comes back, takeover pacing applies.
    public mutating func revoke(partition: Int32) -> Revocation<Payload> {
        var revocation = Revocation<Payload>()
        guard let slots = slotsByPartition.removeValue(forKey: partition) else { return revocation }
        for slot in slots.sorted() {
            guard lanes[slot].isActive else { continue } // a stale slot, freed earlier
            let device = lanes[slot].device
            let lanePartition = lanes[slot].partition
            let headRevoked = lanes[slot].headRevoked
            let inFlight = lanes[slot].phase == .inFlight
            let headWasOurs = lanes[slot].entries.first?.partition == partition
            let removed = lanes[slot].entries.removeAll(fromPosition: inFlight ? 1 : 0) {
                $0.partition == partition
            }
            heldCount -= removed.count
            revocation.dropped += removed.map {
                LaneRecord(partition: $0.partition, offset: $0.offset, device: device, payload: $0.payload)
            }
            if inFlight, headWasOurs, !headRevoked, let head = lanes[slot].entries.first {
                lanes[slot].headRevoked = true
                revocation.inFlight.append(LaneRecord(partition: head.partition, offset: head.offset,
                                                      device: device, payload: head.payload))
            }
            let remaining = lanes[slot].entries.count
            if let last = lanes[slot].entries.last, !(inFlight && remaining == 1 && headWasOurs) {
                lanes[slot].partition = last.partition
            }
            if inFlight {
                if remaining == 1, headWasOurs { lanes[slot].evictWhenIdle = true }
            } else if remaining == 0 {
                if lanePartition == partition || !removed.isEmpty { freeLane(slot) }
            } else if headWasOurs {
                // The head changed: its drawn gap belonged to the dropped record.
                lanes[slot].pacer.discardDraw()
                scheduleHead(slot)
            }
        }
        revocation.dropped.sort { $0.offset < $1.offset }
        revocation.inFlight.sort { $0.offset < $1.offset }
        pruneTimers()
        return revocation
    }

    /// Applies takeover pacing to a known device (as if it had just sent at `now`), e.g. when the
    /// runtime learns another worker sent for it. Unknown devices get it anyway on first enqueue.
    public mutating func takeover(device: String, now: Double) {
        guard let slot = slotByDevice[device] else { return }
        lanes[slot].pacer.takeOver(at: now)
        if case .waiting = lanes[slot].phase { scheduleHead(slot) }
        pruneTimers()
    }

    /// Ends a hold on the head of `device` early (a paused device resumed, a cap reset).
    /// Returns false if the lane is not waiting on a hold.
    @discardableResult
    public mutating func releaseHold(device: String) -> Bool {
        guard let slot = slotByDevice[device], case .waiting(_, _, .hold) = lanes[slot].phase else { return false }
        lanes[slot].entries.modifyFirst { $0.wait = nil }
        scheduleHead(slot)
        pruneTimers()
        return true
    }

    /// Takes every record of an idle or waiting lane out and forgets the lane (a device parked
    /// for a long wait: its records are read again from the log when it wakes). Returns them in
    /// lane order, or nil when the device has no lane or its head is in flight.
    public mutating func removeLane(device: String) -> [LaneRecord<Payload>]? {
        guard let slot = slotByDevice[device], lanes[slot].phase != .inFlight else { return nil }
        let records = lanes[slot].entries.map {
            LaneRecord(partition: $0.partition, offset: $0.offset, device: device, payload: $0.payload)
        }
        freeLane(slot)
        pruneTimers()
        return records
    }

    // MARK: - Internals

    /// True while the device has a lane (its next record joins it; no new lane is made).
    public func hasLane(for device: String) -> Bool {
        slotByDevice[device] != nil
    }

    private mutating func makeLane(device: String, partition: Int32, now: Double, lastSendAt: Double?) -> Int {
        let pacer = if let lastSendAt {
            DevicePacer(lastSendAt: lastSendAt)
        } else {
            configuration.paceFirstSendFromTakeover ? DevicePacer.takenOver(at: now) : DevicePacer()
        }
        let lane = Lane<Payload>(device: device, partition: partition, pacer: pacer)
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            lanes[slot] = lane
        } else {
            slot = lanes.count
            lanes.append(lane)
        }
        slotByDevice[device] = slot
        slotsByPartition[partition, default: []].insert(slot)
        return slot
    }

    private mutating func freeLane(_ slot: Int) {
        guard lanes[slot].isActive else { return }
        let device = lanes[slot].device
        setPhase(slot, .idle)
        heldCount -= lanes[slot].entries.count
        lanes[slot] = .vacant
        slotByDevice.removeValue(forKey: device)
        freeSlots.append(slot)
    }

    private mutating func removeHead(_ slot: Int) {
        lanes[slot].entries.removeFirstReleasingStorage()
        lanes[slot].headRevoked = false
        heldCount -= 1
    }

    /// Computes when the head may go and arms the lane's timer; idles an empty lane.
    private mutating func scheduleHead(_ slot: Int) {
        guard let head = lanes[slot].entries.first else {
            setPhase(slot, .idle)
            return
        }
        // The latest constraint wins; on ties the later one here (hold, retry) is the reason shown.
        var due = -Double.infinity
        var reason = WaitReason.pacing
        func consider(_ instant: Double, _ why: WaitReason) {
            if instant >= due {
                due = instant
                reason = why
            }
        }
        if let paced = lanes[slot].pacer.pacedAt(minDelay: head.minDelay, maxDelay: head.maxDelay, using: &random) {
            consider(paced, .pacing)
        }
        if let notBefore = head.notBefore { consider(notBefore, .scheduled) }
        switch head.wait {
        case let .retry(until)?: consider(until, .retry)
        case let .hold(until, why)?: consider(until, .hold(why))
        case nil: break
        }
        nextToken &+= 1
        setPhase(slot, .waiting(token: nextToken, due: due, reason: reason))
    }

    /// The only place a lane's phase changes, so the live-timer and in-flight counts stay exact.
    private mutating func setPhase(_ slot: Int, _ phase: LanePhase) {
        switch lanes[slot].phase {
        case let .waiting(_, due, _) where due < .infinity: liveTimers -= 1
        case .inFlight: inFlightCount -= 1
        default: break
        }
        lanes[slot].phase = phase
        switch phase {
        case let .waiting(token, due, _) where due < .infinity:
            liveTimers += 1
            timers.insert(TimerEntry(due: due, token: token, slot: slot))
        case .inFlight: inFlightCount += 1
        default: break
        }
    }

    private func isLive(_ timer: TimerEntry) -> Bool {
        Self.isLive(timer, in: lanes)
    }

    private static func isLive(_ timer: TimerEntry, in lanes: [Lane<Payload>]) -> Bool {
        guard case let .waiting(token, _, _) = lanes[timer.slot].phase else { return false }
        return token == timer.token
    }

    /// Keeps the heap's top live (so `nextWakeUp` is exact in O(1)) and rebuilds it when stale
    /// entries outnumber live ones, so memory stays O(lanes) and the cost stays amortised.
    private mutating func pruneTimers() {
        while let top = timers.min, !isLive(top) { timers.popMin() }
        if timers.count - liveTimers > Swift.max(1_024, liveTimers) {
            let lanes = self.lanes
            timers = Heap(timers.unordered.filter { Self.isLive($0, in: lanes) })
        }
    }
}
