import CRdKafka

/// Synchronous operations on a consumer. They block the calling thread: use them inside the rebalance
/// handler (which runs on the consumer's poll thread) or from a thread of your own; from async code use
/// the `KafkaConsumer` methods, which run them off Swift's cooperative pool.
public struct ConsumerControl: @unchecked Sendable {
    let handle: OpaquePointer

    /// Commits exactly these offsets (the next offset to read per partition), with optional metadata,
    /// and waits for the group coordinator's answer.
    public func commit(_ offsets: [TopicPartitionOffset]) throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let list = TopicPartitionList.make(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_commit(handle, list, 0)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "committing offsets") }
        if let error = TopicPartitionList.firstError(list, context: "committing offset of") { throw error }
    }

    /// Starts a commit without waiting; the outcome is logged and passed to the consumer's commit observer.
    public func commitAsync(_ offsets: [TopicPartitionOffset]) throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let list = TopicPartitionList.make(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_commit(handle, list, 1)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "committing offsets") }
    }

    /// The group's committed offsets and metadata; offset `KafkaOffset.invalid` when none was committed.
    public func committed(_ partitions: [TopicPartition], timeout: Duration = .seconds(10)) throws(KafkaError) -> [TopicPartitionOffset] {
        let list = TopicPartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_committed(handle, list, timeout.milliseconds)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "reading committed offsets") }
        if let error = TopicPartitionList.firstError(list, context: "reading committed offset of") { throw error }
        return TopicPartitionList.offsets(list)
    }

    /// The next offset the consumer will hand over per partition (after the last message it returned).
    public func position(_ partitions: [TopicPartition]) throws(KafkaError) -> [TopicPartitionOffset] {
        let list = TopicPartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_position(handle, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "reading positions") }
        return TopicPartitionList.offsets(list)
    }

    /// The partitions this member owns now.
    public func assignment() throws(KafkaError) -> [TopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        let err = rd_kafka_assignment(handle, &list)
        defer { if let list { rd_kafka_topic_partition_list_destroy(list) } }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "reading the assignment") }
        return TopicPartitionList.partitions(list)
    }

    /// Asks the partition leader for the current low and high watermarks.
    public func queryWatermarks(_ partition: TopicPartition, timeout: Duration = .seconds(10)) throws(KafkaError) -> Watermarks {
        var low: Int64 = 0
        var high: Int64 = 0
        let err = rd_kafka_query_watermark_offsets(handle, partition.topic, partition.partition, &low, &high, timeout.milliseconds)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "querying watermarks of \(partition)") }
        return Watermarks(low: low, high: high)
    }

    /// The watermarks librdkafka last learned from fetches and statistics, without a request.
    public func cachedWatermarks(_ partition: TopicPartition) throws(KafkaError) -> Watermarks {
        var low: Int64 = 0
        var high: Int64 = 0
        let err = rd_kafka_get_watermark_offsets(handle, partition.topic, partition.partition, &low, &high)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "reading cached watermarks of \(partition)") }
        return Watermarks(low: low, high: high)
    }

    func pause(_ partitions: [TopicPartition], resume: Bool) throws(KafkaError) {
        guard !partitions.isEmpty else { return }
        let list = TopicPartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = resume ? rd_kafka_resume_partitions(handle, list) : rd_kafka_pause_partitions(handle, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: resume ? "resuming partitions" : "pausing partitions") }
    }
}

extension Duration {
    /// Whole milliseconds for librdkafka's `int timeout_ms` parameters.
    var milliseconds: Int32 {
        let (seconds, attoseconds) = components
        return Int32(clamping: seconds * 1_000 + attoseconds / 1_000_000_000_000_000)
    }
}
