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
final class BatchDelivery: DeliveryHandler, @unchecked Sendable {
    private struct State {
        var settled = 0
        var enqueued = 0
        var sealed = false
        var finished = false
        var waiter: CheckedContinuation<Void, Never>?

        /// Marks the batch finished the first time every enqueued record is settled after sealing.
        mutating func finishIfComplete() -> Bool {
            guard !finished, sealed, settled == enqueued else { return false }
            finished = true
            return true
        }
    }

    let slots: UnsafeMutablePointer<DeliverySlot>
    // Written by exactly one party per index: the enqueuer (refused records) or the poll thread
    // (delivery reports); read only after completion, which the mutex orders.
    let results: UnsafeMutablePointer<RawDelivery>
    let count: Int
    private let state = Mutex(State())

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

    /// Counts a record librdkafka accepted; its report will come later.
    func didEnqueue() {
        state.withLock { $0.enqueued += 1 }
    }

    /// Records a record librdkafka refused outright; no report will come for it.
    func refused(index: Int, error: KafkaError) {
        results[index].error = rd_kafka_resp_err_t(rawValue: error.code)
        results[index].detail = error.message
    }

    override func delivered(index: Int, _ delivery: RawDelivery) {
        results[index] = delivery
        settle { $0.settled += 1 }
    }

    /// No more records will be enqueued.
    func seal() {
        settle { $0.sealed = true }
    }

    private func settle(_ change: (inout State) -> Void) {
        let (finished, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            change(&state)
            guard state.finishIfComplete() else { return (false, nil) }
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        guard finished else { return }
        waiter?.resume()
        Unmanaged.passUnretained(self).release()
    }

    func waitUntilSettled() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock {
                if $0.finished { return true }
                $0.waiter = continuation
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
    let topics: [String]

    public var count: Int { topics.count }

    public func wait() async -> [DeliveryResult] {
        await batch.waitUntilSettled()
        return topics.indices.map { batch.results[$0].result(topic: topics[$0], context: "delivery") }
    }
}
