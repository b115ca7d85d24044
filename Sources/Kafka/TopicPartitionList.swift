import CRdKafka
import Foundation

/// Conversions between Swift values and librdkafka's `rd_kafka_topic_partition_list_t`.
enum TopicPartitionList {
    /// A new native list the caller must destroy. Metadata is copied into `malloc`ed memory because
    /// librdkafka frees it with the list.
    static func make(_ offsets: [TopicPartitionOffset]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        // librdkafka aborts the process itself when it cannot allocate, so nil cannot happen here.
        guard let list = rd_kafka_topic_partition_list_new(Int32(offsets.count)) else {
            preconditionFailure("librdkafka could not allocate a partition list")
        }
        for item in offsets {
            guard let element = rd_kafka_topic_partition_list_add(list, item.topic, item.partition) else { continue }
            element.pointee.offset = item.offset
            var bytes = Array((item.metadata ?? "").utf8)
            if item.metadata != nil, !bytes.isEmpty, let memory = malloc(bytes.count) {
                memory.copyMemory(from: &bytes, byteCount: bytes.count)
                element.pointee.metadata = memory
                element.pointee.metadata_size = bytes.count
            }
        }
        return list
    }

    static func make(_ partitions: [TopicPartition]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        make(partitions.map { TopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: KafkaOffset.invalid) })
    }

    static func elements(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>?) -> UnsafeBufferPointer<rd_kafka_topic_partition_t> {
        guard let list, let elems = list.pointee.elems else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: elems, count: Int(list.pointee.cnt))
    }

    static func offsets(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>?) -> [TopicPartitionOffset] {
        elements(list).map { element in
            var metadata: String?
            if let bytes = element.metadata, element.metadata_size > 0 {
                metadata = String(decoding: UnsafeRawBufferPointer(start: bytes, count: element.metadata_size), as: UTF8.self)
            }
            return TopicPartitionOffset(
                topic: String(cString: element.topic), partition: element.partition, offset: element.offset, metadata: metadata
            )
        }
    }

    static func partitions(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>?) -> [TopicPartition] {
        elements(list).map { TopicPartition(topic: String(cString: $0.topic), partition: $0.partition) }
    }

    /// The first per-partition error of a list that librdkafka filled in, if any.
    static func firstError(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>?, context: String) -> KafkaError? {
        for element in elements(list) where element.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            return KafkaError(element.err, context: "\(context) \(String(cString: element.topic))[\(element.partition)]")
        }
        return nil
    }
}
