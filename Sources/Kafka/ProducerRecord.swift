/// A record to publish. `partition` nil lets the configured partitioner choose from the key.
public struct ProducerRecord: Sendable {
    public var topic: String
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    public var partition: Int32?
    /// Milliseconds since the Unix epoch; nil lets librdkafka stamp the record.
    public var timestamp: Int64?

    public init(
        topic: String,
        key: [UInt8]? = nil,
        value: [UInt8]?,
        headers: [KafkaHeader] = [],
        partition: Int32? = nil,
        timestamp: Int64? = nil
    ) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
        self.partition = partition
        self.timestamp = timestamp
    }

    public init(topic: String, key: String, value: [UInt8], headers: [KafkaHeader] = []) {
        self.init(topic: topic, key: Array(key.utf8), value: value, headers: headers)
    }
}

/// Where Kafka stored an acknowledged record.
public struct DeliveryReport: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
}

public typealias DeliveryResult = Result<DeliveryReport, KafkaError>
