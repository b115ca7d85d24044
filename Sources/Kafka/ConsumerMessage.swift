import CRdKafka

/// Messages handed over together. They stay in librdkafka's memory (no copy per message) until the
/// batch is released; read what you need while you hold it.
public final class ConsumerBatch: @unchecked Sendable {
    // Only mutated while the batch is still inside the consumer's buffer, before the application sees it.
    var pointers: [UnsafeMutablePointer<rd_kafka_message_t>]
    /// The consumer's assignment epoch when the batch was fetched: messages of a partition whose current
    /// ownership began at a later epoch are stale and must be ignored.
    public let epoch: UInt64

    init(pointers: [UnsafeMutablePointer<rd_kafka_message_t>], epoch: UInt64) {
        self.pointers = pointers
        self.epoch = epoch
    }

    deinit {
        for pointer in pointers { rd_kafka_message_destroy(pointer) }
    }

    public var count: Int { pointers.count }

    public subscript(index: Int) -> ConsumerMessage { ConsumerMessage(batch: self, pointer: pointers[index]) }

    /// Drops the messages of `partitions` (given up in a rebalance) and returns what is left.
    func removing(_ partitions: Set<TopicPartition>) -> ConsumerBatch? {
        var kept: [UnsafeMutablePointer<rd_kafka_message_t>] = []
        for pointer in pointers {
            let message = ConsumerMessage(batch: self, pointer: pointer)
            if partitions.contains(TopicPartition(topic: message.topic, partition: message.partition)) {
                rd_kafka_message_destroy(pointer)
            } else {
                kept.append(pointer)
            }
        }
        pointers = []
        return kept.isEmpty ? nil : ConsumerBatch(pointers: kept, epoch: epoch)
    }
}

extension ConsumerBatch: RandomAccessCollection {
    public var startIndex: Int { 0 }
    public var endIndex: Int { pointers.count }
}

/// A view of one fetched message. Key and value buffers are valid while the message (and so its batch) lives.
public struct ConsumerMessage: @unchecked Sendable {
    let batch: ConsumerBatch
    let pointer: UnsafeMutablePointer<rd_kafka_message_t>

    public var topic: String { String(cString: rd_kafka_topic_name(pointer.pointee.rkt)) }
    public var partition: Int32 { pointer.pointee.partition }
    public var offset: Int64 { pointer.pointee.offset }
    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }

    /// The key's bytes without copying, nil when the record has no key.
    public var key: UnsafeRawBufferPointer? {
        guard let key = pointer.pointee.key else { return nil }
        return UnsafeRawBufferPointer(start: key, count: pointer.pointee.key_len)
    }

    /// The value's bytes without copying, nil for a tombstone.
    public var value: UnsafeRawBufferPointer? {
        guard let payload = pointer.pointee.payload else { return nil }
        return UnsafeRawBufferPointer(start: payload, count: pointer.pointee.len)
    }

    public var keyBytes: [UInt8]? { key.map { Array($0) } }
    public var valueBytes: [UInt8]? { value.map { Array($0) } }
    public var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }

    /// Milliseconds since the Unix epoch, when the record carries a timestamp.
    public var timestamp: Int64? {
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let value = rd_kafka_message_timestamp(pointer, &type)
        return type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : value
    }

    public var headers: [KafkaHeader] {
        var list: OpaquePointer?
        guard rd_kafka_message_headers(pointer, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        var result: [KafkaHeader] = []
        var index = 0
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while rd_kafka_header_get_all(list, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
            result.append(KafkaHeader(name: name.map { String(cString: $0) } ?? "", value: bytes))
            index += 1
        }
        return result
    }

    /// The last value of the named header, without building the whole list.
    public func header(_ name: String) -> [UInt8]? {
        var list: OpaquePointer?
        guard rd_kafka_message_headers(pointer, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return nil }
        var value: UnsafeRawPointer?
        var size = 0
        guard rd_kafka_header_get_last(list, name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
    }
}
