import CRdKafka
import Synchronization

/// What librdkafka tells about one record: the error code (0 = acknowledged), partition and offset.
struct RawDelivery {
    var error: rd_kafka_resp_err_t = RD_KAFKA_RESP_ERR_NO_ERROR
    var detail: String?
    var partition: Int32 = -1
    var offset: Int64 = -1
}

/// Receives delivery reports on the producer's poll thread. Subclasses decide what to do with them.
class DeliveryHandler: @unchecked Sendable {
    func delivered(index: Int, _ delivery: RawDelivery) {}
}

/// The per-record `msg_opaque`: which handler, and which record of its batch.
struct DeliverySlot {
    var handler: Unmanaged<DeliveryHandler>
    var index: Int
}

/// Tracks a batch of records enqueued together and resumes one waiter when every record is settled.
/// Counting is lock-free: the hot path per record is one atomic increment.
final class BatchDelivery: DeliveryHandler, @unchecked Sendable {
    let slots: UnsafeMutablePointer<DeliverySlot>
    // Written by exactly one party per index: the enqueuer (refused records) or the poll thread
    // (delivery reports); read only after completion, which the atomics order.
    let results: UnsafeMutablePointer<RawDelivery>
    let count: Int
    /// Records refused before librdkafka took them; touched by the enqueuer only.
    private var refusedCount = 0
    private let settled = Atomic<Int>(0)
    /// How many reports to expect; -1 until the enqueuer sealed the batch.
    private let expected = Atomic<Int>(-1)
    private let finished = Atomic<Bool>(false)
    private let waiter = Mutex<CheckedContinuation<Void, Never>?>(nil)

    init(count: Int) {
        self.count = count
        slots = .allocate(capacity: max(count, 1))
        results = .allocate(capacity: max(count, 1))
        results.initialize(repeating: RawDelivery(), count: max(count, 1))
        super.init()
        // Kept alive by librdkafka's references until the last report, whoever else lets go.
        let unmanaged = Unmanaged<DeliveryHandler>.passRetained(self)
        for index in 0..<count {
            (slots + index).initialize(to: DeliverySlot(handler: unmanaged, index: index))
        }
    }

    deinit {
        results.deinitialize(count: max(count, 1))
        results.deallocate()
        slots.deallocate()
    }

    func opaque(for index: Int) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(slots + index) }

    /// Records a record librdkafka refused outright; no report will come for it.
    func refused(index: Int, error: KafkaError) {
        refusedCount += 1
        results[index].error = rd_kafka_resp_err_t(rawValue: error.code)
        results[index].detail = error.message
    }

    override func delivered(index: Int, _ delivery: RawDelivery) {
        results[index] = delivery
        let now = settled.add(1, ordering: .acquiringAndReleasing).newValue
        if now == expected.load(ordering: .acquiring) { finish() }
    }

    /// Every record was handed over or refused; the handed-over ones will get a report.
    func seal() {
        let enqueued = count - refusedCount
        expected.store(enqueued, ordering: .releasing)
        if settled.load(ordering: .acquiring) == enqueued { finish() }
    }

    /// Runs once, from whichever side saw the last count.
    private func finish() {
        guard !finished.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let continuation = waiter.withLock { waiter in
            defer { waiter = nil }
            return waiter
        }
        continuation?.resume()
        Unmanaged.passUnretained(self).release()
    }

    func waitUntilSettled() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = waiter.withLock { waiter in
                if finished.load(ordering: .acquiring) { return true }
                waiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
    }
}

/// A single record whose report is handed to a closure on the poll thread.
final class CallbackDelivery: DeliveryHandler, @unchecked Sendable {
    let topic: String
    let callback: @Sendable (DeliveryResult) -> Void
    let slot: UnsafeMutablePointer<DeliverySlot>

    init(topic: String, callback: @escaping @Sendable (DeliveryResult) -> Void) {
        self.topic = topic
        self.callback = callback
        slot = .allocate(capacity: 1)
        super.init()
    }

    /// Retains itself until its report arrives.
    func arm() -> UnsafeMutableRawPointer {
        slot.initialize(to: DeliverySlot(handler: .passRetained(self), index: 0))
        return UnsafeMutableRawPointer(slot)
    }

    /// The record was refused before librdkafka took it: undo `arm`.
    func disarm() {
        slot.pointee.handler.release()
    }

    deinit { slot.deallocate() }

    override func delivered(index: Int, _ delivery: RawDelivery) {
        let handler = slot.pointee.handler
        callback(delivery.result(topic: topic, context: "delivery"))
        handler.release()
    }
}

extension RawDelivery {
    func result(topic: String, context: String) -> DeliveryResult {
        if error == RD_KAFKA_RESP_ERR_NO_ERROR {
            return .success(DeliveryReport(topic: topic, partition: partition, offset: offset))
        }
        return .failure(KafkaError(error, context: "\(context) to \(topic)", detail: detail))
    }
}

/// Records enqueued by one `enqueue` call; `wait` returns a result per record, in the order given.
public struct PendingDeliveries: Sendable {
    let batch: BatchDelivery
    let topicNames: [String]
    /// Each record's topic, as an index into `topicNames`.
    let topicIndices: [Int32]

    public var count: Int { topicIndices.count }

    public func wait() async -> [DeliveryResult] {
        await batch.waitUntilSettled()
        return topicIndices.indices.map { batch.results[$0].result(topic: topicNames[Int(topicIndices[$0])], context: "delivery") }
    }

    /// Waits like ``wait()`` and returns only the records Kafka refused, by index: cheaper when
    /// nearly all are acknowledged and only the failures need a closer look.
    public func failures() async -> [(index: Int, error: KafkaError)] {
        await batch.waitUntilSettled()
        var failed: [(index: Int, error: KafkaError)] = []
        for index in 0..<batch.count where batch.results[index].error != RD_KAFKA_RESP_ERR_NO_ERROR {
            if case .failure(let error) = batch.results[index].result(topic: topicNames[Int(topicIndices[index])], context: "delivery") {
                failed.append((index, error))
            }
        }
        return failed
    }
}
