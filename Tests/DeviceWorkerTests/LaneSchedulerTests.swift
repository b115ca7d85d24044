import Testing
@testable import DeviceWorker

@Suite struct LaneSchedulerTests {
    typealias Scheduler = LaneScheduler<String>

    static func scheduler(takeover: Bool = false, seed: UInt64 = 1) -> Scheduler {
        Scheduler(configuration: .init(paceFirstSendFromTakeover: takeover), random: SplitMix64(seed: seed))
    }

    @Test func noHeadOfLineBlocking() throws {
        var scheduler = Self.scheduler()
        var offset: Int64 = 0
        for round in 0..<2 {
            for device in 0..<50 {
                scheduler.enqueue(partition: 0, offset: offset, device: "d\(device)", payload: "r\(round)",
                                  minDelay: 1, maxDelay: 1, now: 0)
                offset += 1
            }
        }
        let first = scheduler.takeDue(now: 0)
        #expect(first.count == 50)
        #expect(Set(first.map(\.device)).count == 50)
        #expect(first.allSatisfy { $0.payload == "r0" })
        #expect(first.map(\.offset) == Array(0..<50))
        #expect(scheduler.takeDue(now: 0).isEmpty) // one in flight per lane
        for dispatch in first { try scheduler.complete(device: dispatch.device, outcome: .sent, now: 0) }
        #expect(scheduler.nextWakeUp == 1)
        #expect(scheduler.takeDue(now: 0.5).isEmpty)
        let second = scheduler.takeDue(now: 1)
        #expect(second.count == 50 && second.allSatisfy { $0.payload == "r1" })
    }

    @Test func takeoverPacesTheFirstSend() throws {
        var scheduler = Self.scheduler(takeover: true)
        for device in 0..<10 {
            scheduler.enqueue(partition: 3, offset: Int64(device), device: "d\(device)", payload: "x",
                              minDelay: 2, maxDelay: 4, now: 100)
        }
        #expect(scheduler.takeDue(now: 101.9).isEmpty)
        let wake = try #require(scheduler.nextWakeUp)
        #expect(wake >= 102 && wake <= 104)
        #expect(scheduler.state(of: "d0") != nil)
        if case let .waiting(until, reason)? = scheduler.state(of: "d0") {
            #expect(reason == .pacing && until >= 102 && until <= 104)
        } else {
            Issue.record("d0 should be waiting")
        }
        #expect(scheduler.takeDue(now: 104).count == 10)
    }

    @Test func fifoPerDeviceThroughRetriesAndHolds() throws {
        var scheduler = Self.scheduler()
        for offset in Int64(0)..<3 {
            scheduler.enqueue(partition: 0, offset: offset, device: "d", payload: "m\(offset)",
                              minDelay: 0, maxDelay: 0, now: 0)
        }
        var log: [(Int64, Int)] = []
        var now = 0.0
        func step(_ outcome: LaneOutcome) throws {
            let dispatches = scheduler.takeDue(now: now)
            #expect(dispatches.count == 1)
            guard let dispatch = dispatches.first else { return }
            log.append((dispatch.offset, dispatch.attempt))
            try scheduler.complete(device: "d", outcome: outcome, now: now)
        }
        try step(.retry(after: 2))
        #expect(scheduler.state(of: "d") == .waiting(until: 2, reason: .retry))
        now = 1.9
        #expect(scheduler.takeDue(now: now).isEmpty)
        now = 2
        try step(.hold(until: 10, reason: "daily cap"))
        #expect(scheduler.state(of: "d") == .waiting(until: 10, reason: .hold("daily cap")))
        now = 10
        try step(.retry(after: 1))
        now = 11
        try step(.sent)
        try step(.hold(until: .infinity, reason: "paused"))
        #expect(scheduler.nextWakeUp == nil)
        let released = scheduler.releaseHold(device: "d")
        #expect(released)
        try step(.skipped)
        try step(.sent)
        #expect(log.map(\.0) == [0, 0, 0, 0, 1, 1, 2])
        #expect(log.map(\.1) == [1, 2, 2, 3, 1, 1, 1])
        #expect(scheduler.heldCount == 0 && scheduler.state(of: "d") == .idle)
    }

    @Test("a retry after a timed-out attempt waits for the paced gap, not only the backoff")
    func retryAfterUnknownOutcomeIsPaced() throws {
        var scheduler = Self.scheduler()
        scheduler.enqueue(partition: 0, offset: 0, device: "d", payload: "m0", minDelay: 30, maxDelay: 30, now: 0)
        scheduler.enqueue(partition: 0, offset: 1, device: "e", payload: "m1", minDelay: 30, maxDelay: 30, now: 0)
        let first = scheduler.takeDue(now: 0)
        #expect(first.count == 2)
        // d timed out (it may have been delivered); e failed before anything left.
        try scheduler.complete(device: "d", outcome: .retryAfterUnknownOutcome(after: 0.5), now: 10)
        try scheduler.complete(device: "e", outcome: .retry(after: 0.5), now: 10)
        #expect(scheduler.state(of: "d") == .waiting(until: 40, reason: .pacing))
        #expect(scheduler.state(of: "e") == .waiting(until: 10.5, reason: .retry))
        #expect(scheduler.takeDue(now: 39.9).map(\.device) == ["e"])
        let retried = scheduler.takeDue(now: 40)
        #expect(retried.map(\.device) == ["d"] && retried.first?.attempt == 2)
    }

    @Test func skippedMessagesDoNotConsumeAPacingGap() throws {
        var scheduler = Self.scheduler()
        for offset in Int64(0)..<3 {
            scheduler.enqueue(partition: 0, offset: offset, device: "d", payload: "m", minDelay: 5, maxDelay: 5, now: 0)
        }
        #expect(scheduler.takeDue(now: 0).count == 1)
        try scheduler.complete(device: "d", outcome: .sent, now: 0)
        #expect(scheduler.takeDue(now: 5).first?.offset == 1)
        try scheduler.complete(device: "d", outcome: .skipped, now: 5)
        // Still 5 s after the last real send (t=0), not after the skip.
        #expect(scheduler.nextWakeUp == 5)
        #expect(scheduler.takeDue(now: 5).first?.offset == 2)
    }

    @Test func scheduledAtDelaysOnlyItsLane() throws {
        var scheduler = Self.scheduler()
        scheduler.enqueue(partition: 0, offset: 0, device: "later", payload: "a", notBefore: 60,
                          minDelay: 0, maxDelay: 0, now: 0)
        scheduler.enqueue(partition: 0, offset: 1, device: "now", payload: "b", minDelay: 0, maxDelay: 0, now: 0)
        #expect(scheduler.takeDue(now: 0).map(\.device) == ["now"])
        #expect(scheduler.state(of: "later") == .waiting(until: 60, reason: .scheduled))
        #expect(scheduler.nextWakeUp == 60)
    }

    @Test func nextWakeUpMatchesBruteForceWithManyLanes() throws {
        var rng = SplitMix64(seed: 99)
        var scheduler = Self.scheduler(takeover: true, seed: 5)
        let devices = (0..<800).map { "d\($0)" }
        var offset: Int64 = 0
        for _ in 0..<4 {
            for device in devices {
                let notBefore: Double? = Bool.random(using: &rng) ? Double.random(in: 0...50, using: &rng) : nil
                scheduler.enqueue(partition: Int32(offset % 4), offset: offset, device: device, payload: "",
                                  notBefore: notBefore, minDelay: 0.5, maxDelay: 8, now: 0)
                offset += 1
            }
        }
        func bruteForce() -> Double? {
            devices.compactMap { device -> Double? in
                if case let .waiting(until, _)? = scheduler.state(of: device), until < .infinity { return until }
                return nil
            }.min()
        }
        var now = 0.0
        var completed = 0
        var lastOffset: [String: Int64] = [:]
        while let wake = scheduler.nextWakeUp {
            #expect(wake == bruteForce())
            now = max(now, wake)
            for dispatch in scheduler.takeDue(now: now) {
                #expect((lastOffset[dispatch.device] ?? -1) <= dispatch.offset)
                lastOffset[dispatch.device] = dispatch.offset
                switch UInt8.random(in: 0..<10, using: &rng) {
                case 0: try scheduler.complete(device: dispatch.device, outcome: .retry(after: 3), now: now)
                case 1: try scheduler.complete(device: dispatch.device, outcome: .hold(until: now + 7, reason: "cap"), now: now)
                default:
                    try scheduler.complete(device: dispatch.device, outcome: .sent, now: now)
                    completed += 1
                }
            }
        }
        #expect(completed == 3_200)
        #expect(scheduler.heldCount == 0 && scheduler.inFlightCount == 0)
    }

    @Test func revokeDropsTheRightRecords() throws {
        var scheduler = Self.scheduler()
        // a, b on partition 0; c on partition 1.
        let plan: [(Int32, Int64, String)] = [(0, 0, "a"), (0, 1, "b"), (1, 0, "c"), (0, 2, "a"), (0, 3, "b"), (1, 1, "c")]
        for (partition, offset, device) in plan {
            scheduler.enqueue(partition: partition, offset: offset, device: device, payload: "\(partition)/\(offset)",
                              minDelay: 1, maxDelay: 1, now: 0)
        }
        #expect(scheduler.heldCount == 6)
        let inFlight = scheduler.takeDue(now: 0)
        #expect(inFlight.map(\.device) == ["a", "b", "c"])
        try scheduler.complete(device: "b", outcome: .sent, now: 0) // b's next (offset 3) now waits

        let revocation = scheduler.revoke(partition: 0)
        #expect(revocation.dropped.map(\.offset) == [2, 3])
        #expect(revocation.inFlight.map(\.offset) == [0])
        #expect(revocation.inFlight.first?.device == "a")
        #expect(scheduler.heldCount == 3) // a's in-flight head + c's two records
        #expect(scheduler.state(of: "b") == nil)
        #expect(scheduler.state(of: "a") == .inFlight)

        #expect(try scheduler.complete(device: "a", outcome: .retry(after: 1), now: 0.5) == .abandoned(partition: 0, offset: 0))
        #expect(scheduler.state(of: "a") == nil)
        #expect(scheduler.laneCount == 1)
        #expect(try scheduler.complete(device: "c", outcome: .sent, now: 0.5) == .finished(partition: 1, offset: 0))
        #expect(scheduler.takeDue(now: 1.5).map(\.offset) == [1])
        #expect(scheduler.revoke(partition: 0).dropped.isEmpty)
    }

    @Test func revokedInFlightHeadBlocksItsDeviceUntilCompleted() throws {
        var scheduler = Self.scheduler()
        scheduler.enqueue(partition: 0, offset: 7, device: "a", payload: "old", minDelay: 0, maxDelay: 0, now: 0)
        #expect(scheduler.takeDue(now: 0).count == 1)
        _ = scheduler.revoke(partition: 0)
        // Partition 0 comes straight back while the old send is still running.
        scheduler.enqueue(partition: 0, offset: 7, device: "a", payload: "again", minDelay: 0, maxDelay: 0, now: 1)
        #expect(scheduler.takeDue(now: 1).isEmpty) // never two sends at once for one device
        #expect(try scheduler.complete(device: "a", outcome: .sent, now: 2) == .finished(partition: 0, offset: 7))
        #expect(scheduler.takeDue(now: 2).map(\.payload) == ["again"])
        #expect(scheduler.revoke(partition: 0).inFlight.map(\.payload) == ["again"])
    }

    @Test func deviceOnTwoPartitionsKeepsArrivalOrder() throws {
        var scheduler = Self.scheduler()
        scheduler.enqueue(partition: 0, offset: 10, device: "d", payload: "p0", minDelay: 0, maxDelay: 0, now: 0)
        scheduler.enqueue(partition: 1, offset: 3, device: "d", payload: "p1", minDelay: 0, maxDelay: 0, now: 0)
        scheduler.enqueue(partition: 0, offset: 11, device: "d", payload: "p0b", minDelay: 0, maxDelay: 0, now: 0)
        var payloads: [String] = []
        while let dispatch = scheduler.takeDue(now: 0).first {
            payloads.append(dispatch.payload)
            try scheduler.complete(device: "d", outcome: .sent, now: 0)
        }
        #expect(payloads == ["p0", "p1", "p0b"])

        scheduler.enqueue(partition: 0, offset: 12, device: "d", payload: "x", minDelay: 0, maxDelay: 0, now: 0)
        scheduler.enqueue(partition: 1, offset: 4, device: "d", payload: "y", minDelay: 0, maxDelay: 0, now: 0)
        #expect(scheduler.revoke(partition: 0).dropped.map(\.payload) == ["x"])
        #expect(scheduler.takeDue(now: 0).map(\.payload) == ["y"])
    }

    @Test func heldCountTracksQueuedAndInFlight() throws {
        var scheduler = Self.scheduler()
        for offset in Int64(0)..<5 {
            scheduler.enqueue(partition: 0, offset: offset, device: "d\(offset % 2)", payload: "",
                              minDelay: 0, maxDelay: 0, now: 0)
        }
        #expect(scheduler.heldCount == 5 && scheduler.queuedCount(of: "d0") == 3)
        let dispatches = scheduler.takeDue(now: 0)
        #expect(scheduler.heldCount == 5 && scheduler.inFlightCount == 2)
        try scheduler.complete(device: dispatches[0].device, outcome: .sent, now: 0)
        try scheduler.complete(device: dispatches[1].device, outcome: .retry(after: 1), now: 0)
        #expect(scheduler.heldCount == 4 && scheduler.inFlightCount == 0)
    }

    @Test func strayCompletionThrows() throws {
        var scheduler = Self.scheduler()
        #expect(throws: LaneSchedulerError.notInFlight(device: "ghost")) {
            try scheduler.complete(device: "ghost", outcome: .sent, now: 0)
        }
        scheduler.enqueue(partition: 0, offset: 0, device: "d", payload: "", minDelay: 0, maxDelay: 0, now: 0)
        #expect(throws: LaneSchedulerError.self) { try scheduler.complete(device: "d", outcome: .sent, now: 0) }
        _ = scheduler.takeDue(now: 0)
        try scheduler.complete(device: "d", outcome: .sent, now: 0)
        #expect(throws: LaneSchedulerError.self) { try scheduler.complete(device: "d", outcome: .sent, now: 0) }
    }

    @Test func takeDueHonoursLimitAndSameSeedIsDeterministic() {
        func run(seed: UInt64) -> [Double] {
            var scheduler = Self.scheduler(takeover: true, seed: seed)
            for device in 0..<20 {
                scheduler.enqueue(partition: 0, offset: Int64(device), device: "d\(device)", payload: "",
                                  minDelay: 1, maxDelay: 9, now: 0)
            }
            var wakes: [Double] = []
            while let wake = scheduler.nextWakeUp {
                wakes.append(wake)
                #expect(scheduler.takeDue(now: wake, limit: 1).count == 1)
            }
            return wakes
        }
        #expect(run(seed: 3) == run(seed: 3))
        #expect(run(seed: 3).count == 20)
    }

    @Test func takeoverOfAWaitingLaneKeepsTheDrawnGap() throws {
        var scheduler = Self.scheduler(takeover: true)
        scheduler.enqueue(partition: 0, offset: 0, device: "d", payload: "", minDelay: 1, maxDelay: 100, now: 0)
        let before = try #require(scheduler.nextWakeUp)
        scheduler.takeover(device: "d", now: 10)
        #expect(scheduler.nextWakeUp == before + 10)
    }

    @Test func manyReschedulesKeepNextWakeUpExact() {
        var scheduler = Self.scheduler(takeover: true)
        for device in 0..<10 {
            scheduler.enqueue(partition: 0, offset: Int64(device), device: "d\(device)", payload: "",
                              minDelay: 1, maxDelay: 1, now: 0)
        }
        // Each takeover re-arms a timer and leaves a stale heap entry: enough to force a rebuild.
        for round in 1...3_000 {
            scheduler.takeover(device: "d\(round % 10)", now: Double(round))
        }
        #expect(scheduler.nextWakeUp == 2_992) // d1 was last taken over at t=2991
        #expect(scheduler.takeDue(now: 2_992).map(\.device) == ["d1"])
    }

    @Test func revokingTheHeadRedrawsForTheNewHead() throws {
        var scheduler = Self.scheduler(takeover: true)
        scheduler.enqueue(partition: 0, offset: 0, device: "d", payload: "p0", minDelay: 1, maxDelay: 1, now: 0)
        scheduler.enqueue(partition: 1, offset: 0, device: "d", payload: "p1", notBefore: 30,
                          minDelay: 5, maxDelay: 5, now: 0)
        #expect(scheduler.nextWakeUp == 1)
        let revocation = scheduler.revoke(partition: 0)
        #expect(revocation.dropped.map(\.payload) == ["p0"])
        #expect(scheduler.state(of: "d") == .waiting(until: 30, reason: .scheduled))
        #expect(scheduler.heldCount == 1)
        #expect(scheduler.revoke(partition: 1).dropped.map(\.payload) == ["p1"])
        #expect(scheduler.laneCount == 0 && scheduler.nextWakeUp == nil && scheduler.heldCount == 0)
    }

    @Test func removeLaneTakesAWaitingLaneOutWhole() throws {
        var scheduler = Self.scheduler()
        for offset in 0..<5 {
            scheduler.enqueue(partition: 1, offset: Int64(offset), device: "sleeper", payload: "s\(offset)", minDelay: 0, maxDelay: 0, now: 0)
        }
        scheduler.enqueue(partition: 1, offset: 5, device: "awake", payload: "a", minDelay: 0, maxDelay: 0, now: 0)
        let heads = scheduler.takeDue(now: 0)
        #expect(heads.count == 2)
        // In flight: not removable.
        let whileInFlight = scheduler.removeLane(device: "sleeper")
        #expect(whileInFlight == nil)
        try scheduler.complete(device: "sleeper", outcome: .hold(until: 3_600, reason: "quiet_hours"), now: 0)
        let taken = scheduler.removeLane(device: "sleeper")
        let removed = try #require(taken)
        #expect(removed.map(\.offset) == [0, 1, 2, 3, 4])
        #expect(removed.map(\.payload) == ["s0", "s1", "s2", "s3", "s4"])
        #expect(scheduler.heldCount == 1)
        #expect(!scheduler.hasLane(for: "sleeper"))
        let again = scheduler.removeLane(device: "sleeper")
        #expect(again == nil)
        // Its timer is gone too: nothing of it is due, ever.
        let due = scheduler.takeDue(now: 10_000)
        #expect(due.isEmpty)
        try scheduler.complete(device: "awake", outcome: .sent, now: 1)
        #expect(scheduler.heldCount == 0)
    }
}
