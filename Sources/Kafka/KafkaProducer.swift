import CRdKafka
import Foundation
import Logging
import Synchronization

private let deliveryReportCallback: @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = {
    _, message, _ in
    guard let message, let opaque = message.pointee._private else { return }
    let slot = opaque.assumingMemoryBound(to: DeliverySlot.self).pointee
    var delivery = RawDelivery(error: message.pointee.err, partition: message.pointee.partition, offset: message.pointee.offset)
    if delivery.error != RD_KAFKA_RESP_ERR_NO_ERROR, let text = rd_kafka_message_errstr(message) {
        delivery.detail = String(cString: text)
    }
    slot.handler.takeUnretainedValue().delivered(index: slot.index, delivery)
}

/// A Kafka producer. Delivery reports are served by a thread of its own; `send` resumes the caller when
/// Kafka acknowledged the record, and `enqueue` hands many records to librdkafka at once and awaits
/// them together.
// librdkafka handles are thread-safe; the mutable Swift state is behind Mutex and Atomic.
public final class KafkaProducer: @unchecked Sendable {
    private let handle: OpaquePointer
    private let context: ClientContext
    private let topics: Mutex<[String: OpaquePointer]> = Mutex([:])
    private let stopFlag = OnceFlag()
    private let closed = Atomic<Bool>(false)
    private let poller: Mutex<ServiceThread?> = Mutex(nil)
    public let logger: Logger

    public init(configuration: ProducerConfiguration, logger: Logger = Logger(label: "kafka.producer")) throws(KafkaError) {
        var native = try NativeConfiguration(configuration.properties)
        let context = ClientContext(logger: logger)
        native.install(context: context)
        if let conf = native.handle {
            rd_kafka_conf_set_dr_msg_cb(conf, deliveryReportCallback)
        }
        handle = try native.makeClient(type: RD_KAFKA_PRODUCER, context: "creating producer")
        self.context = context
        self.logger = logger
        startPolling()
    }

    private func startPolling() {
        let handle = UnsafeSendableHandle(handle)
        let stopFlag = stopFlag
        poller.withLock {
            $0 = ServiceThread(name: "kafka-producer-poll") {
                while !stopFlag.isSet {
                    rd_kafka_poll(handle.pointer, 100)
                }
            }
        }
    }

    deinit {
        shutDown(flushTimeoutMilliseconds: 0)
        context.logger.trace("producer released")
    }

    /// The `rd_kafka_topic_t` for a name, created once: producing by handle avoids a lookup per record.
    private func topicHandle(_ name: String) throws(KafkaError) -> OpaquePointer {
        let found: OpaquePointer? = topics.withLock { cache in
            if let existing = cache[name] { return existing }
            guard let created = rd_kafka_topic_new(handle, name, nil) else { return nil }
            cache[name] = created
            return created
        }
        guard let found else {
            throw KafkaError(rd_kafka_last_error(), context: "opening topic \(name)")
        }
        return found
    }

    /// Hands one record to librdkafka; `opaque` comes back with its delivery report.
    private func produce(_ record: ProducerRecord, topic: OpaquePointer, opaque: UnsafeMutableRawPointer) throws(KafkaError) {
        try withOptionalBytes(record.key) { (key) throws(KafkaError) in
            try withOptionalBytes(record.value) { (value) throws(KafkaError) in
                try produce(
                    topic: topic, topicName: record.topic, key: key, value: value, headers: record.headers,
                    partition: record.partition, timestamp: record.timestamp, opaque: opaque)
            }
        }
    }

    /// The one call into `rd_kafka_produceva`; librdkafka copies key and value before returning.
    private func produce(
        topic: OpaquePointer, topicName: @autoclosure () -> String, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?,
        headers recordHeaders: [KafkaHeader], partition: Int32?, timestamp: Int64?, opaque: UnsafeMutableRawPointer
    ) throws(KafkaError) {
        var headers: OpaquePointer?
        if !recordHeaders.isEmpty {
            let list = rd_kafka_headers_new(recordHeaders.count)
            for header in recordHeaders {
                if let value = header.value {
                    value.withUnsafeBytes { _ = rd_kafka_header_add(list, header.name, -1, $0.baseAddress, $0.count) }
                } else {
                    _ = rd_kafka_header_add(list, header.name, -1, nil, 0)
                }
            }
            headers = list
        }
        let error: OpaquePointer? = withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 7) { fields in
            var count = 0
            func add(_ type: rd_kafka_vtype_t, _ fill: (inout rd_kafka_vu_t) -> Void) {
                var field = rd_kafka_vu_t()
                field.vtype = type
                fill(&field)
                fields[count] = field
                count += 1
            }
            add(RD_KAFKA_VTYPE_RKT) { $0.u.rkt = topic }
            add(RD_KAFKA_VTYPE_MSGFLAGS) { $0.u.i = RD_KAFKA_MSG_F_COPY }
            add(RD_KAFKA_VTYPE_OPAQUE) { $0.u.ptr = opaque }
            if let partition { add(RD_KAFKA_VTYPE_PARTITION) { $0.u.i32 = partition } }
            if let timestamp { add(RD_KAFKA_VTYPE_TIMESTAMP) { $0.u.i64 = timestamp } }
            if let headers { add(RD_KAFKA_VTYPE_HEADERS) { $0.u.headers = headers } }
            if let key { add(RD_KAFKA_VTYPE_KEY) { $0.u.mem = .init(ptr: UnsafeMutableRawPointer(mutating: key.baseAddress), size: key.count) } }
            if let value { add(RD_KAFKA_VTYPE_VALUE) { $0.u.mem = .init(ptr: UnsafeMutableRawPointer(mutating: value.baseAddress), size: value.count) } }
            return rd_kafka_produceva(handle, fields.baseAddress, count)
        }
        if let error {
            // librdkafka owns the headers only when it accepted the record.
            if let headers { rd_kafka_headers_destroy(headers) }
            throw KafkaError(consuming: error, context: "producing to \(topicName())")
        }
    }

    /// Produces one record and calls `onDelivery` on the delivery thread when Kafka answered. The
    /// cheapest form: no task hop per record. Throws when librdkafka refused the record outright
    /// (queue full, unknown partition, record too large).
    public func produce(_ record: ProducerRecord, onDelivery: @escaping @Sendable (DeliveryResult) -> Void) throws(KafkaError) {
        guard !closed.load(ordering: .acquiring) else { throw .closed("producing to \(record.topic)") }
        let delivery = CallbackDelivery(topic: record.topic, callback: onDelivery)
        let opaque = delivery.arm()
        do {
            try produce(record, topic: try topicHandle(record.topic), opaque: opaque)
        } catch {
            delivery.disarm()
            throw error
        }
    }

    /// Enqueues every record (waiting for room when librdkafka's queue is full) and returns a handle
    /// that awaits all their delivery reports. Records refused outright get a failed result.
    public func enqueue(_ records: [ProducerRecord]) async throws(KafkaError) -> PendingDeliveries {
        guard !closed.load(ordering: .acquiring) else { throw .closed("producing a batch") }
        var names: [String] = []
        var handles: [OpaquePointer] = []
        var topicIndices: [Int32] = []
        topicIndices.reserveCapacity(records.count)
        for record in records {
            if let known = names.lastIndex(of: record.topic) {
                topicIndices.append(Int32(known))
            } else {
                handles.append(try topicHandle(record.topic))
                names.append(record.topic)
                topicIndices.append(Int32(names.count - 1))
            }
        }
        return await enqueue(count: records.count, topicNames: names, topicIndices: topicIndices) { start, batch in
            produceRun(from: start, count: records.count, into: batch) { (index, opaque) throws(KafkaError) in
                try produce(records[index], topic: handles[Int(topicIndices[index])], opaque: opaque)
            }
        }
    }

    /// Enqueues a batch the same way: one call into librdkafka per record, straight from the
    /// batch's buffer.
    public func enqueue(_ batch: ProducerBatch) async throws(KafkaError) -> PendingDeliveries {
        guard !closed.load(ordering: .acquiring) else { throw .closed("producing a batch") }
        var handles: [OpaquePointer] = []
        for name in batch.topicNames { handles.append(try topicHandle(name)) }
        let entries = batch.entries
        return await enqueue(count: entries.count, topicNames: batch.topicNames, topicIndices: entries.map(\.topic)) { start, delivery in
            batch.bytes.withUnsafeBytes { bytes in
                produceRun(from: start, count: entries.count, into: delivery) { (index, opaque) throws(KafkaError) in
                    let entry = entries[index]
                    let keyEnd = entry.keyStart + max(entry.keyCount, 0)
                    try produce(
                        topic: handles[Int(entry.topic)], topicName: batch.topicNames[Int(entry.topic)],
                        key: entry.keyCount >= 0 ? UnsafeRawBufferPointer(rebasing: bytes[entry.keyStart..<keyEnd]) : nil,
                        value: UnsafeRawBufferPointer(rebasing: bytes[keyEnd..<entry.valueEnd]),
                        headers: entry.headers >= 0 ? batch.headerSets[Int(entry.headers)] : [],
                        partition: nil, timestamp: nil, opaque: opaque)
                }
            }
        }
    }

    /// Hands records to librdkafka in runs: `run(start, batch)` produces from `start` on without
    /// blocking and returns where librdkafka's queue was full (or the count when done); between runs
    /// the caller sleeps briefly while the poll thread drains the queue, so memory stays bounded.
    private func enqueue(
        count: Int, topicNames: [String], topicIndices: [Int32], run: (Int, BatchDelivery) -> Int
    ) async -> PendingDeliveries {
        let batch = BatchDelivery(count: count)
        var next = 0
        while true {
            next = run(next, batch)
            if next >= count { break }
            try? await Task.sleep(for: .milliseconds(1))
        }
        batch.seal()
        return PendingDeliveries(batch: batch, topicNames: topicNames, topicIndices: topicIndices)
    }

    /// Produces records `start..<count` until librdkafka's queue is full; records refused for any
    /// other reason get their error in `batch`. Returns the first record not yet handed over.
    private func produceRun(
        from start: Int, count: Int, into batch: BatchDelivery, produceOne: (Int, UnsafeMutableRawPointer) throws(KafkaError) -> Void
    ) -> Int {
        for index in start..<count {
            do {
                try produceOne(index, batch.opaque(for: index))
            } catch where error.isQueueFull {
                return index
            } catch {
                batch.refused(index: index, error: error)
            }
        }
        return count
    }

    /// Produces the records and waits until Kafka acknowledged or refused each one.
    public func send(_ records: [ProducerRecord]) async throws(KafkaError) -> [DeliveryResult] {
        try await enqueue(records).wait()
    }

    /// Produces one record and waits for Kafka's acknowledgement.
    public func send(_ record: ProducerRecord) async throws(KafkaError) -> DeliveryReport {
        try await send([record])[0].get()
    }

    /// Waits until every record handed over so far has its delivery report, or the timeout passes.
    /// Returns the number still waiting (0 when flushed).
    @discardableResult
    public func flush(timeout: Duration = .seconds(30)) async throws(KafkaError) -> Int {
        let handle = UnsafeSendableHandle(handle)
        return try await offload { () throws(KafkaError) -> Int in
            let deadline = ContinuousClock.now + timeout
            while rd_kafka_outq_len(handle.pointer) > 0 && ContinuousClock.now < deadline {
                usleep(1_000)
            }
            return Int(rd_kafka_outq_len(handle.pointer))
        }
    }

    /// Flushes what is in flight, then stops the delivery thread and frees librdkafka's resources.
    /// Safe to call more than once.
    public func close(flushTimeout: Duration = .seconds(30)) async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let remaining = (try? await flush(timeout: flushTimeout)) ?? -1
        if remaining != 0 {
            logger.warning("closing producer with records not acknowledged", metadata: ["pending": "\(remaining)"])
        }
        _ = try? await offload { [self] () throws(KafkaError) in self.shutDown(flushTimeoutMilliseconds: 0) }
    }

    private let destroyed = Atomic<Bool>(false)

    /// Destroys the client at once, dropping what is not yet acknowledged: for owners that go away
    /// synchronously (a `deinit`) before the cluster they talk to, so the client does not outlive it.
    public func closeNow() {
        shutDown(flushTimeoutMilliseconds: 0)
    }

    private func shutDown(flushTimeoutMilliseconds: Int32) {
        guard !destroyed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        closed.store(true, ordering: .releasing)
        if flushTimeoutMilliseconds > 0 { rd_kafka_flush(handle, flushTimeoutMilliseconds) }
        stopFlag.set()
        poller.withLock { $0?.join() }
        topics.withLock { cache in
            cache.values.forEach { rd_kafka_topic_destroy($0) }
            cache.removeAll()
        }
        rd_kafka_destroy(handle)
    }

    /// The librdkafka handle, for the embedded cluster and admin operations built on a producer.
    var nativeHandle: OpaquePointer { handle }
}

/// Set once by one thread and read by others (e.g. telling a service thread to stop) without
/// keeping its owner alive.
public final class OnceFlag: Sendable {
    private let value = Atomic<Bool>(false)
    public init() {}
    public var isSet: Bool { value.load(ordering: .acquiring) }
    public func set() { value.store(true, ordering: .releasing) }
}

/// A raw librdkafka pointer passed to a thread that uses it under librdkafka's own thread-safety rules.
struct UnsafeSendableHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
}

/// Runs `body` with the bytes of an optional array, or nil.
func withOptionalBytes<R, E: Error>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) throws(E) -> R) throws(E) -> R {
    guard let bytes else { return try body(nil) }
    // `withUnsafeBytes` rethrows untyped; carry the typed error through a Result.
    let result: Result<R, E> = bytes.withUnsafeBytes { buffer in Result { () throws(E) -> R in try body(buffer) } }
    return try result.get()
}
