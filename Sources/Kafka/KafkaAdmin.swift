import CRdKafka
import Logging

public struct NewTopic: Sendable, Hashable {
    public var name: String
    public var partitions: Int
    public var replicationFactor: Int
    public var configs: [String: String]

    public init(name: String, partitions: Int, replicationFactor: Int = 1, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

public struct PartitionDescription: Sendable, Hashable {
    public var id: Int32
    public var leader: Int32
    public var replicas: [Int32]
    public var inSyncReplicas: [Int32]
}

public struct TopicDescription: Sendable, Hashable {
    public var name: String
    public var partitions: [PartitionDescription]
}

/// Topic administration. Requests run off Swift's cooperative pool and wait for the broker's answer.
public final class KafkaAdmin: Sendable {
    private let client: KafkaProducer

    public init(options: KafkaClientOptions, logger: Logger = Logger(label: "kafka.admin")) throws(KafkaError) {
        var configuration = ProducerConfiguration(client: options)
        configuration.idempotence = false
        client = try KafkaProducer(configuration: configuration, logger: logger)
    }

    public convenience init(bootstrapServers: String) throws(KafkaError) {
        try self.init(options: KafkaClientOptions(bootstrapServers: bootstrapServers))
    }

    public func close() async { await client.close(flushTimeout: .zero) }

    /// Creates the topics; one that already exists counts as created.
    public func createTopics(_ topics: [NewTopic], timeout: Duration = .seconds(30)) async throws(KafkaError) {
        let handle = UnsafeSendableHandle(client.nativeHandle)
        try await offload { () throws(KafkaError) in
            try Self.createTopics(topics, handle: handle.pointer, timeout: timeout)
        }
    }

    private static func createTopics(_ topics: [NewTopic], handle: OpaquePointer, timeout: Duration) throws(KafkaError) {
        var natives: [OpaquePointer?] = []
        defer { natives.forEach { rd_kafka_NewTopic_destroy($0) } }
        for topic in topics {
            var errstr = [CChar](repeating: 0, count: 512)
            guard let native = rd_kafka_NewTopic_new(topic.name, Int32(topic.partitions), Int32(topic.replicationFactor), &errstr, errstr.count) else {
                throw KafkaError.configuration("topic \(topic.name): \(String(cString: errstr))")
            }
            natives.append(native)
            for (name, value) in topic.configs.sorted(by: { $0.key < $1.key }) {
                let err = rd_kafka_NewTopic_set_config(native, name, value)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "topic \(topic.name) config \(name)") }
            }
        }
        let queue = rd_kafka_queue_new(handle)
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        var errstr = [CChar](repeating: 0, count: 512)
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeout.milliseconds, &errstr, errstr.count)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeout.milliseconds, &errstr, errstr.count)
        natives.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_CreateTopics(handle, buffer.baseAddress, buffer.count, options, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, timeout.milliseconds + 5_000) else {
            throw KafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT, context: "creating topics")
        }
        defer { rd_kafka_event_destroy(event) }
        let eventError = rd_kafka_event_error(event)
        if eventError != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(eventError, context: "creating topics", detail: rd_kafka_event_error_string(event).map { String(cString: $0) })
        }
        var count = 0
        guard let result = rd_kafka_event_CreateTopics_result(event),
              let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
        for index in 0..<count {
            let err = rd_kafka_topic_result_error(results[index])
            if err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS { continue }
            let name = String(cString: rd_kafka_topic_result_name(results[index]))
            throw KafkaError(err, context: "creating topic \(name)", detail: rd_kafka_topic_result_error_string(results[index]).map { String(cString: $0) })
        }
    }

    /// Every topic the cluster reports, with partitions, leaders and replicas.
    public func describeTopics(timeout: Duration = .seconds(10)) async throws(KafkaError) -> [TopicDescription] {
        let handle = UnsafeSendableHandle(client.nativeHandle)
        return try await offload { () throws(KafkaError) in try Self.describe(handle: handle.pointer, timeout: timeout) }
    }

    public func describeTopic(_ name: String, timeout: Duration = .seconds(10)) async throws(KafkaError) -> TopicDescription? {
        try await describeTopics(timeout: timeout).first { $0.name == name }
    }

    public func listTopics(timeout: Duration = .seconds(10)) async throws(KafkaError) -> [String] {
        try await describeTopics(timeout: timeout).map(\.name).sorted()
    }

    private static func describe(handle: OpaquePointer, timeout: Duration) throws(KafkaError) -> [TopicDescription] {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(handle, 1, nil, &metadata, timeout.milliseconds)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { throw KafkaError(err, context: "reading cluster metadata") }
        defer { rd_kafka_metadata_destroy(metadata) }
        let topics = UnsafeBufferPointer(start: metadata.pointee.topics, count: Int(metadata.pointee.topic_cnt))
        return topics.filter { $0.err == RD_KAFKA_RESP_ERR_NO_ERROR }.map { topic in
            let partitions = UnsafeBufferPointer(start: topic.partitions, count: Int(topic.partition_cnt)).map { partition in
                PartitionDescription(
                    id: partition.id,
                    leader: partition.leader,
                    replicas: Array(UnsafeBufferPointer(start: partition.replicas, count: Int(partition.replica_cnt))),
                    inSyncReplicas: Array(UnsafeBufferPointer(start: partition.isrs, count: Int(partition.isr_cnt)))
                )
            }
            return TopicDescription(name: String(cString: topic.topic), partitions: partitions.sorted { $0.id < $1.id })
        }
    }
}
