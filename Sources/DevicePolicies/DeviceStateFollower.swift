import BroadcastModel
import Dispatch
import Foundation
import Kafka
import Logging
import Synchronization
import WorkerRuntime

/// Keeps every device's safety state in the worker's ``AntiSpamPolicy`` in step with the compacted
/// `broadcast.devices` topic, and writes this worker's own changes to it: the worker's
/// ``DeviceStateJournal``.
///
/// Every worker reads the whole topic from the beginning under a group of its own and never
/// commits: any worker may be handed any device. Records are merged (``DeviceStateRecord/merged(with:)``),
/// so this worker's own records coming back, or an older record read after a newer one, change
/// nothing. A record that cannot be read is never taken as "no sends yet": its device sends nothing
/// until a readable record of it arrives (an operator's `broadcast device resume` writes one).
public final class DeviceStateFollower: DeviceStateJournal {
    private struct Progress {
        /// Next offset to read per partition.
        var positions: [Int32: Int64] = [:]
        var assignedPartitions: [TopicPartition] = []
        /// Ends a catch-up that timed out still waits for; sends hold until they are reached.
        var pendingTargets: [Int32: Int64]?
        var ignored = 0
        var read = 0

        func reached(_ targets: [Int32: Int64]) -> Bool {
            targets.allSatisfy { partition, high in (positions[partition] ?? 0) >= high }
        }
    }

    public let topic: String
    public let policy: AntiSpamPolicy
    /// Written into each record (`writer`), for the audit trail.
    public let writer: String
    /// Business budgets whose claims share this topic; nil when no device has one.
    public let budgets: RecipientBudgets?
    private let consumer: KafkaConsumer
    private let logger: Logger
    private let progress = Mutex(Progress())
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let lastWait = Mutex<(started: ContinuousClock.Instant, took: Duration)?>(nil)
    /// This process's records carry its instance id: they come back already known, so they are
    /// not decoded again (a name could be reused by a restarted worker, a per-process id cannot).
    private static let instanceHeader = "writer-instance"
    private let instance = Array(UUID().uuidString.utf8)
    private let headers: [KafkaHeader]

    public init(
        client: KafkaClientOptions, topic: String, policy: AntiSpamPolicy, writer: String,
        budgets: RecipientBudgets? = nil,
        groupPrefix: String = "broadcast-devices", logger: Logger = Logger(label: "broadcast.devices")
    ) throws(KafkaError) {
        var configuration = ConsumerConfiguration(client: client, groupId: "\(groupPrefix)-\(UUID().uuidString.prefix(8))")
        configuration.startFromEarliest = true
        // One member per group: the eager strategy has no first-assignment caveat.
        configuration.assignmentStrategy = .range
        // A budgeted send waits for its claim to come back through this reader: a fetch that finds
        // nothing new must not sit at the broker for long (a broker that answers as soon as data
        // arrives makes this moot; the mock waits out the full time).
        let budgets = budgets.flatMap { $0.isEmpty ? nil : $0 }
        if budgets != nil {
            configuration.fetchMaxWaitMilliseconds = 10
        } else {
            // Without claims nothing waits on a single record coming back, and while workers send,
            // each of their commits writes a record per device that sent: a fetch that waits for
            // 64 KB (or 200 ms) takes them in a few large batches rather than a stream of small ones.
            configuration.fetchMinBytes = 64 * 1024
            configuration.fetchMaxWaitMilliseconds = 200
        }
        self.topic = topic
        self.policy = policy
        self.writer = writer
        self.budgets = budgets
        self.logger = logger
        headers = [
            KafkaHeader(name: RecordSchema.headerName, value: Array(RecordSchema.device.utf8)),
            KafkaHeader(name: Self.instanceHeader, value: instance),
        ]
        consumer = try KafkaConsumer(configuration: configuration, logger: logger)
    }

    /// Subscribes and starts taking records in, in the background.
    public func start() throws(KafkaError) {
        try consumer.subscribe(topics: [topic])
        let work = Task { [self] in
            for await event in consumer.events {
                await handle(event)
            }
        }
        task.withLock { $0 = work }
    }

    /// Leaves the group (nothing is committed) and stops.
    public func close() async {
        await consumer.close()
        let work = task.withLock { $0 }
        await work?.value
    }

    // MARK: DeviceStateJournal

    public func record(for deviceId: String) -> ProducerRecord? {
        guard let state = policy.stateRecord(of: deviceId, writer: writer) else { return nil }
        return ProducerRecord(topic: topic, key: Array(deviceId.utf8), value: state.encoded(), headers: headers)
    }

    public func recordBeforeSending(_ message: BroadcastMessage, at instant: Date) -> ProducerRecord? {
        policy.reserveSend(message, at: instant) ? record(for: message.deviceId) : nil
    }

    public func lastSend(of deviceId: String) -> Date? {
        policy.lastSend(of: deviceId)
    }

    public var isCurrent: Bool { policy.isDeviceStateCurrent }

    public func healthiestDevice(of candidates: [String], excluding: String, at instant: Date) -> String? {
        policy.healthiestDevice(of: candidates, excluding: excluding, at: instant)
    }

    public func admit(
        _ message: BroadcastMessage, now: Date, write: @escaping @Sendable (ProducerRecord) async -> Bool
    ) async -> (until: Date, reason: String)? {
        await budgets?.admit(message, now: now, write: write)
    }

    public func parking(of deviceId: String) -> DeviceStateRecord.Parking? {
        policy.parking(of: deviceId)
    }

    @discardableResult
    public func setParking(_ parking: DeviceStateRecord.Parking, for deviceId: String) -> DeviceStateRecord.Parking {
        policy.setParking(parking, for: deviceId)
    }

    public func parkedDevices(on partition: Int32) -> [(deviceId: String, parking: DeviceStateRecord.Parking)] {
        policy.parkedDevices(on: partition)
    }

    /// How long the latest assignment waited for the state (``catchUp(timeout:)``), for benchmarks and logs.
    public var lastCatchUpWait: Duration? { lastWait.withLock { $0?.took } }
    /// When the latest assignment began waiting for the state.
    public var lastCatchUpStarted: ContinuousClock.Instant? { lastWait.withLock { $0?.started } }

    /// Records taken in so far (this worker's own included).
    public var recordsRead: Int { progress.withLock { $0.read } }

    public func catchUp(timeout: Duration) -> Bool {
        let started = ContinuousClock.now
        defer { lastWait.withLock { $0 = (started, ContinuousClock.now - started) } }
        let result = Mutex(false)
        let done = DispatchSemaphore(value: 0)
        Task {
            let current = await waitForCurrentState(timeout: timeout)
            result.withLock { $0 = current }
            done.signal()
        }
        done.wait()
        return result.withLock { $0 }
    }

    /// Waits until every record written before the call is read (the topic's end now), or
    /// `timeout` passes. When it passes, sends hold until that end is reached.
    public func waitForCurrentState(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        // The topic's partitions are known once this follower's own group assigned them.
        var partitions = progress.withLock { $0.assignedPartitions }
        while partitions.isEmpty, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
            partitions = progress.withLock { $0.assignedPartitions }
        }
        var targets: [Int32: Int64] = [:]
        var known = !partitions.isEmpty
        for partition in partitions {
            do {
                targets[partition.partition] = try await consumer.queryWatermarks(partition, timeout: max(.milliseconds(100), deadline - ContinuousClock.now)).high
            } catch {
                logger.warning("could not read where the device-state topic ends", metadata: ["partition": "\(partition.partition)", "error": "\(error)"])
                known = false
            }
        }
        while known, ContinuousClock.now < deadline {
            if progress.withLock({ $0.reached(targets) }) {
                policy.setDeviceStateCurrent(true)
                return true
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        // Not read in time: every send holds until it is (the next batch that reaches the end
        // lets them go). When the end itself is unknown, it is asked again shortly.
        policy.setDeviceStateCurrent(false)
        // The end may have been read since the loop last looked: then no later batch would lift the hold.
        let reachedMeanwhile = progress.withLock { progress -> Bool in
            progress.pendingTargets = known ? targets : nil
            guard known, progress.reached(targets) else { return false }
            progress.pendingTargets = nil
            return true
        }
        if reachedMeanwhile {
            policy.setDeviceStateCurrent(true)
            return true
        }
        if !known {
            Task {
                try? await Task.sleep(for: .seconds(1))
                _ = await waitForCurrentState(timeout: .seconds(10))
            }
        }
        return false
    }

    // MARK: Reading

    private func handle(_ event: ConsumerEvent) async {
        switch event {
        case .messages(let batch):
            var positions: [Int32: Int64] = [:]
            var ignored: [(key: String, reason: String)] = []
            var ignoredClaims: [(key: String, reason: String)] = []
            for message in batch {
                positions[message.partition] = max(positions[message.partition] ?? 0, message.offset + 1)
                // Checked first: this worker's own records need no copy or decode.
                if message.header(Self.instanceHeader) == instance { continue }
                let key = message.keyString ?? ""
                guard let value = message.valueBytes else { continue }  // a tombstone: the state is forgotten, not changed
                if RecipientClaim.isClaimKey(key) {
                    // A claim that cannot be read counts for nobody: it granted no slot on any worker.
                    do { budgets?.absorb(try RecipientClaim.decodeValidated(key: key, value: value)) } catch { ignoredClaims.append((key, "\(error)")) }
                    continue
                }
                do {
                    policy.absorb(try DeviceStateRecord.decodeValidated(key: key, value: value))
                } catch {
                    ignored.append((key, "\(error)"))
                    if !key.isEmpty { policy.markStateUnreadable(key) }
                }
            }
            let caughtUp = progress.withLock { progress -> Bool in
                progress.positions.merge(positions, uniquingKeysWith: max)
                progress.ignored += ignored.count
                progress.read += batch.count
                guard let pending = progress.pendingTargets, progress.reached(pending) else { return false }
                progress.pendingTargets = nil
                return true
            }
            if caughtUp {
                policy.setDeviceStateCurrent(true)
                logger.info("device state read to its end; held sends go on", metadata: ["topic": "\(topic)"])
            }
            for (key, reason) in ignoredClaims.prefix(5) {
                logger.warning("recipient claim ignored: it counts for no budget", metadata: [
                    "topic": "\(topic)", "key": "\(key)", "reason": "\(reason)",
                ])
            }
            for (key, reason) in ignored.prefix(5) {
                logger.warning("device-state record ignored; the device sends nothing until a readable record of it arrives", metadata: [
                    "topic": "\(topic)", "device": "\(key)", "reason": "\(reason)",
                ])
            }
        case .assigned(let partitions, _):
            var lows: [Int32: Int64] = [:]
            for partition in partitions {
                // A compacted or trimmed partition may start above 0: reading from its start counts as read.
                if let marks = try? await consumer.queryWatermarks(partition) { lows[partition.partition] = marks.low }
            }
            budgets?.setPartitionCount(partitions.filter { $0.topic == topic }.count)
            progress.withLock { progress in
                progress.assignedPartitions = partitions.filter { $0.topic == topic }
                for (partition, low) in lows where (progress.positions[partition] ?? 0) < low {
                    progress.positions[partition] = low
                }
            }
        case .revoked:
            break
        case .error(let error):
            logger.debug("device-state consumer error", metadata: ["error": "\(error)"])
        }
    }
}
