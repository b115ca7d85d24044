/// A Kafka record header. A nil value is a header without a value, which Kafka distinguishes from an empty one.
public struct KafkaHeader: Sendable, Hashable {
    public var name: String
    public var value: [UInt8]?

    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }

    /// A header given as a (name, value) pair, the form header constants are kept in.
    public init(_ header: (String, [UInt8])) {
        self.init(name: header.0, value: header.1)
    }

    public init(name: String, string: String) {
        self.init(name: name, value: Array(string.utf8))
    }

    /// The value read as UTF-8, for headers that carry text.
    public var stringValue: String? { value.map { String(decoding: $0, as: UTF8.self) } }
}

public struct TopicPartition: Sendable, Hashable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }
}

/// An offset to commit or one that was committed, with the optional metadata Kafka stores beside it.
public struct TopicPartitionOffset: Sendable, Hashable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    /// The next offset to read; negative values are librdkafka's logical offsets (see `KafkaOffset`).
    public var offset: Int64
    public var metadata: String?

    public init(topic: String, partition: Int32, offset: Int64, metadata: String? = nil) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.metadata = metadata
    }

    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }
    public var description: String { "\(topic)[\(partition)]@\(offset)" }
}

/// librdkafka's logical offsets.
public enum KafkaOffset {
    public static let beginning: Int64 = -2
    public static let end: Int64 = -1
    public static let stored: Int64 = -1000
    public static let invalid: Int64 = -1001
}

/// Low and high watermarks of a partition: `high - committed` is the consumer lag.
public struct Watermarks: Sendable, Hashable {
    public var low: Int64
    public var high: Int64
}
