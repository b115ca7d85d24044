import CRdKafka
import Foundation
import Logging
import Synchronization

/// What the group coordinator decided, handed to the rebalance handler on the poll thread.
public struct RebalanceEvent: Sendable {
    public enum Kind: Sendable { case assigned, revoked }
    public var kind: Kind
    public var partitions: [TopicPartition]
    /// The partitions were taken away without a clean hand-over: committing them will fail.
    public var lost: Bool
    /// `cooperative-sticky`: only the listed partitions change; eager: the whole assignment does.
    public var cooperative: Bool
    /// Assignment epoch after this change (see `ConsumerBatch.epoch`).
    public var epoch: UInt64
}

/// Runs inside librdkafka's rebalance callback, before revoked partitions are given up and before
/// assigned ones are fetched: the place to commit what is done. It blocks the poll thread, so keep it short.
public typealias RebalanceHandler = @Sendable (RebalanceEvent, ConsumerControl) -> Void

/// Receives librdkafka's statistics JSON (when `statisticsIntervalMilliseconds` is set).
public typealias StatisticsHandler = @Sendable (String) -> Void

/// Callback state of one consumer, reached from librdkafka's callbacks and the poll thread.
final class ConsumerContext: ClientContext, @unchecked Sendable {
    let buffer: ConsumerEventBuffer
    let rebalanceHandler: RebalanceHandler?
    let statisticsHandler: StatisticsHandler?
    let epoch = Atomic<UInt64>(0)
    let controls = Mutex<[(partitions: [TopicPartition], resume: Bool)]>([])
    let paused = Mutex<Set<TopicPartition>>([])
    // Poll-thread only: messages collected for the batch being built.
    var collecting: [UnsafeMutablePointer<rd_kafka_message_t>] = []
    // Poll-thread only: an assignment (even an empty one) arrived at least once.
    var everAssigned = false

    init(logger: Logger, capacity: Int, rebalanceHandler: RebalanceHandler?, statisticsHandler: StatisticsHandler?) {
        buffer = ConsumerEventBuffer(capacity: capacity)
        self.rebalanceHandler = rebalanceHandler
        self.statisticsHandler = statisticsHandler
        super.init(logger: logger)
    }

    /// Poll thread: hands the batch being collected to the application.
    func flushCollecting() {
        guard !collecting.isEmpty else { return }
        buffer.push(.messages(ConsumerBatch(pointers: collecting, epoch: epoch.load(ordering: .acquiring))))
        collecting = []
    }

    /// Poll thread: applies pause and resume requests (librdkafka 2.0.2 is safest when they come from here).
    func applyControls(_ control: ConsumerControl) {
        let requests = controls.withLock { requests in
            defer { requests.removeAll() }
            return requests
        }
        for request in requests {
            do {
                try control.pause(request.partitions, resume: request.resume)
            } catch {
                logger.warning("could not change paused partitions", metadata: ["error": "\(error)"])
            }
        }
    }

    func handleRebalance(_ rk: OpaquePointer, _ err: rd_kafka_resp_err_t, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) {
        let control = ConsumerControl(handle: rk)
        let partitions = TopicPartitionList.partitions(list)
        let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
        // Whatever was fetched before this point belongs to the old assignment.
        flushCollecting()
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            everAssigned = true
            let epoch = epoch.add(1, ordering: .acquiringAndReleasing).newValue
            rebalanceHandler?(RebalanceEvent(kind: .assigned, partitions: partitions, lost: false, cooperative: cooperative, epoch: epoch), control)
            let error: KafkaError? = cooperative
                ? rd_kafka_incremental_assign(rk, list).map { KafkaError(consuming: $0, context: "assigning partitions") }
                : nonZero(rd_kafka_assign(rk, list), "assigning partitions")
            if let error { buffer.push(.error(error)) }
            logger.info("partitions assigned", metadata: ["partitions": "\(partitions.map(\.description))", "epoch": "\(epoch)"])
            buffer.push(.assigned(partitions, epoch: epoch))
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            let lost = rd_kafka_assignment_lost(rk) != 0
            let epoch = epoch.add(1, ordering: .acquiringAndReleasing).newValue
            buffer.purge(Set(partitions))
            rebalanceHandler?(RebalanceEvent(kind: .revoked, partitions: partitions, lost: lost, cooperative: cooperative, epoch: epoch), control)
            let error: KafkaError? = cooperative
                ? rd_kafka_incremental_unassign(rk, list).map { KafkaError(consuming: $0, context: "revoking partitions") }
                : nonZero(rd_kafka_assign(rk, nil), "revoking partitions")
            if let error { buffer.push(.error(error)) }
            paused.withLock { $0.subtract(partitions) }
            logger.info("partitions revoked", metadata: ["partitions": "\(partitions.map(\.description))", "lost": "\(lost)", "epoch": "\(epoch)"])
            buffer.push(.revoked(partitions, lost: lost, epoch: epoch))
        default:
            let error = KafkaError(err, context: "rebalance")
            logger.error("rebalance failed; dropping the assignment", metadata: ["error": "\(error)"])
            _ = rd_kafka_assign(rk, nil)
            buffer.push(.error(error))
        }
    }

    private func nonZero(_ err: rd_kafka_resp_err_t, _ context: String) -> KafkaError? {
        err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(err, context: context)
    }
}

private let rebalanceCallback: @convention(c) (OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?) -> Void = {
    rk, err, list, _ in
    guard let rk, let context = ClientContext.from(rk) as? ConsumerContext else { return }
    context.handleRebalance(rk, err, list)
}

private let statisticsCallback: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?, Int, UnsafeMutableRawPointer?) -> Int32 = {
    rk, json, length, _ in
    guard let json, let context = ClientContext.from(rk) as? ConsumerContext else { return 0 }
    let text = String(decoding: UnsafeRawBufferPointer(start: json, count: length), as: UTF8.self)
    context.statisticsHandler?(text)
    return 0  // librdkafka frees the JSON
}

private let offsetCommitCallback: @convention(c) (OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?) -> Void = {
    rk, err, list, _ in
    guard let context = ClientContext.from(rk) else { return }
    let failure = err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET
        ? KafkaError(err, context: "committing offsets") : TopicPartitionList.firstError(list, context: "committing offset of")
    if let failure {
        // The next commit carries the same or higher offsets, so a failed one costs little; the
        // caller of a synchronous commit gets the error too, so this is only a trace.
        context.logger.debug("offset commit failed", metadata: ["error": "\(failure)"])
    }
}

/// A consumer group member. A thread of its own polls librdkafka and hands messages over in batches
/// (`events`); the rebalance handler runs inside librdkafka's callback so the application can commit
/// before partitions move. Offsets are committed only when the application says so.
public final class KafkaConsumer: @unchecked Sendable {
    private let handle: OpaquePointer
    private let context: ConsumerContext
    private let stopFlag = OnceFlag()
    private let poller = Mutex<ServiceThread?>(nil)
    /// Held for the whole of a close, so a second close waits for the first instead of racing it.
    private let closing = NSLock()
    /// Calls using the handle from other threads (commit, committed, watermarks) and whether the
    /// consumer is closing: a close waits for those in progress and later ones are refused, so none
    /// touches the handle after librdkafka destroyed it (a watermark query on a destroyed handle
    /// never returned).
    private let usage = Mutex<(closing: Bool, inUse: Int)>((false, 0))
    private let maxBatchSize: Int
    private let assignmentStrategy: PartitionAssignmentStrategy
    private let closeTimeout: Duration
    private let abandoned = Atomic<Bool>(false)
    public let logger: Logger

    public init(
        configuration: ConsumerConfiguration,
        logger: Logger = Logger(label: "kafka.consumer"),
        rebalanceHandler: RebalanceHandler? = nil,
        statisticsHandler: StatisticsHandler? = nil
    ) throws(KafkaError) {
        var native = try NativeConfiguration(configuration.properties)
        let context = ConsumerContext(
            logger: logger, capacity: configuration.maxBufferedMessages,
            rebalanceHandler: rebalanceHandler, statisticsHandler: statisticsHandler
        )
        native.install(context: context)
        if let conf = native.handle {
            rd_kafka_conf_set_rebalance_cb(conf, rebalanceCallback)
            rd_kafka_conf_set_offset_commit_cb(conf, offsetCommitCallback)
            if statisticsHandler != nil { rd_kafka_conf_set_stats_cb(conf, statisticsCallback) }
        }
        handle = try native.makeClient(type: RD_KAFKA_CONSUMER, context: "creating consumer")
        // Serve everything (logs, errors, rebalances) from the consumer queue our thread polls.
        rd_kafka_poll_set_consumer(handle)
        self.context = context
        self.logger = logger
        self.maxBatchSize = max(1, configuration.maxBatchSize)
        self.assignmentStrategy = configuration.assignmentStrategy
        self.closeTimeout = configuration.closeTimeout
    }

    deinit {
        stopPolling()
    }

    /// Synchronous operations (commit, committed, position, watermarks) for threads of your own.
    public var control: ConsumerControl { ConsumerControl(handle: handle) }

    /// Batches and rebalance events in order. Iterate from one task; it ends after `close`.
    public var events: ConsumerEvents { ConsumerEvents(buffer: context.buffer) }

    /// Joins the group for these topics and starts the poll thread.
    public func subscribe(topics: [String]) throws(KafkaError) {
        let list = TopicPartitionList.make(topics.map { TopicPartition(topic: $0, partition: -1) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_subscribe(handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "subscribing to \(topics)") }
        startPolling()
    }

    /// Reads these partitions from the given offsets without joining a group (nothing is committed)
    /// and starts the poll thread: for a reader that must see exact ranges of partitions another
    /// consumer owns. Configure such a consumer with `.range` or `.roundRobin`: a cooperative-sticky
    /// one is kept from being destroyed before a group assignment (see `PollLoop`), which it never
    /// gets, so its close waits 20 s and leaves the client to process exit.
    public func assign(_ offsets: [TopicPartitionOffset]) throws(KafkaError) {
        if assignmentStrategy == .cooperativeSticky {
            logger.warning("a consumer that assigns partitions itself should not use cooperative-sticky: its close waits for an assignment that never comes")
        }
        let list = TopicPartitionList.make(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_assign(handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "assigning \(offsets.map(\.partition))") }
        startPolling()
    }

    private func startPolling() {
        poller.withLock { thread in
            guard thread == nil else { return }
            let loop = PollLoop(
                handle: UnsafeSendableHandle(handle), context: context, stop: stopFlag, maxBatchSize: maxBatchSize,
                cooperative: assignmentStrategy == .cooperativeSticky
            )
            thread = ServiceThread(name: "kafka-consumer-poll") { loop.run() }
        }
    }

    /// Stops fetching from these partitions; messages already handed over are not affected.
    public func pause(_ partitions: [TopicPartition]) {
        context.paused.withLock { $0.formUnion(partitions) }
        context.controls.withLock { $0.append((partitions, false)) }
    }

    public func resume(_ partitions: [TopicPartition]) {
        context.paused.withLock { $0.subtract(partitions) }
        context.controls.withLock { $0.append((partitions, true)) }
    }

    /// Partitions paused through `pause` and not resumed or revoked since.
    public var pausedPartitions: Set<TopicPartition> { context.paused.withLock { $0 } }

    public func commit(_ offsets: [TopicPartitionOffset]) async throws(KafkaError) {
        try await offload { [self] () throws(KafkaError) in try using("committing") { (control: ConsumerControl) throws(KafkaError) in try control.commit(offsets) } }
    }

    public func commitAsync(_ offsets: [TopicPartitionOffset]) throws(KafkaError) {
        try using("committing") { (control: ConsumerControl) throws(KafkaError) in try control.commitAsync(offsets) }
    }

    public func committed(_ partitions: [TopicPartition], timeout: Duration = .seconds(10)) async throws(KafkaError) -> [TopicPartitionOffset] {
        try await offload { [self] () throws(KafkaError) in try using("reading committed offsets") { (control: ConsumerControl) throws(KafkaError) in try control.committed(partitions, timeout: timeout) } }
    }

    public func queryWatermarks(_ partition: TopicPartition, timeout: Duration = .seconds(10)) async throws(KafkaError) -> Watermarks {
        try await offload { [self] () throws(KafkaError) in
            try using("querying watermarks of \(partition)") { (control: ConsumerControl) throws(KafkaError) in try control.queryWatermarks(partition, timeout: timeout) }
        }
    }

    /// Runs `body` with the handle unless the consumer is closing (then throws `closed`).
    private func using<T>(_ what: String, _ body: (ConsumerControl) throws(KafkaError) -> T) throws(KafkaError) -> T {
        let admitted = usage.withLock { usage -> Bool in
            guard !usage.closing else { return false }
            usage.inUse += 1
            return true
        }
        guard admitted else { throw KafkaError.closed(what) }
        defer { usage.withLock { $0.inUse -= 1 } }
        return try body(control)
    }

    /// Leaves the group: the poll thread runs librdkafka's close (the rebalance handler sees the final
    /// revocation and can commit), then the events sequence ends, dropping what was never taken.
    /// Returns false when that took longer than the configured close timeout (the client was then
    /// abandoned: logged). Safe to call more than once.
    @discardableResult
    public func close() async -> Bool {
        (try? await offload { [self] () throws(KafkaError) in self.stopPolling() }) ?? false
    }

    @discardableResult
    private func stopPolling() -> Bool {
        closing.lock()
        defer { closing.unlock() }
        // Refuse new calls on the handle and let those in progress finish (each has its own timeout).
        usage.withLock { $0.closing = true }
        while usage.withLock({ $0.inUse }) > 0 { Thread.sleep(forTimeInterval: 0.005) }
        stopFlag.set()
        let thread = poller.withLock { thread in
            defer { thread = nil }
            return thread
        }
        if let thread {
            guard thread.join(within: closeTimeout) else {
                logger.error("consumer did not close in time; its client is abandoned and the group drops it after the session timeout", metadata: [
                    "timeout": "\(closeTimeout)",
                ])
                abandoned.store(true, ordering: .releasing)
                context.buffer.finish()
                return false
            }
        } else if !context.buffer.isFinished {
            // Never subscribed: nothing polls, so close here.
            _ = rd_kafka_consumer_close(handle)
            rd_kafka_destroy(handle)
            context.buffer.finish()
        }
        return !abandoned.load(ordering: .acquiring)
    }
}

/// The poll thread's loop: fetch, batch, hand over; then close and destroy the client.
private struct PollLoop: Sendable {
    let handle: UnsafeSendableHandle
    let context: ConsumerContext
    let stop: OnceFlag
    let maxBatchSize: Int
    let cooperative: Bool

    func run() {
        let rk = handle.pointer
        let control = ConsumerControl(handle: rk)
        while !stop.isSet {
            context.applyControls(control)
            if context.buffer.isFull {
                context.buffer.waitForSpace(milliseconds: 50)
                continue
            }
            guard let first = rd_kafka_consumer_poll(rk, 50) else { continue }
            accept(first)
            while context.collecting.count < maxBatchSize, let next = rd_kafka_consumer_poll(rk, 0) {
                accept(next)
            }
            context.flushCollecting()
        }
        context.flushCollecting()
        let safeToDestroy = awaitFirstAssignmentIfNeeded(rk)
        let err = rd_kafka_consumer_close(rk)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            context.logger.warning("consumer close reported an error", metadata: ["error": "\(KafkaError(err, context: "closing consumer"))"])
        }
        // The reader is gone or done: what it never took must be freed before the client is.
        context.buffer.finishDiscardingWaiting()
        if safeToDestroy {
            rd_kafka_destroy(rk)
        } else {
            // librdkafka before 2.3.0 asserts when a cooperative-sticky member that never got an
            // assignment is destroyed (confluentinc/librdkafka#4312): leave the handle to process exit.
            context.logger.warning("consumer left the group before its first assignment; its handle is kept until exit")
        }
    }

    /// A cooperative-sticky member must have received an assignment before it can be destroyed
    /// (see above): keep serving the group a while, dropping what is fetched, until one arrives.
    private func awaitFirstAssignmentIfNeeded(_ rk: OpaquePointer) -> Bool {
        guard cooperative, !context.everAssigned else { return true }
        let deadline = ContinuousClock.now + .seconds(20)
        while !context.everAssigned, ContinuousClock.now < deadline {
            if let message = rd_kafka_consumer_poll(rk, 100) { rd_kafka_message_destroy(message) }
        }
        return context.everAssigned
    }

    private func accept(_ message: UnsafeMutablePointer<rd_kafka_message_t>) {
        let err = message.pointee.err
        guard err != RD_KAFKA_RESP_ERR_NO_ERROR else {
            context.collecting.append(message)
            return
        }
        if err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
            let detail = rd_kafka_message_errstr(message).map { String(cString: $0) }
            context.flushCollecting()
            context.buffer.push(.error(KafkaError(err, context: "consuming", detail: detail)))
        }
        rd_kafka_message_destroy(message)
    }
}
