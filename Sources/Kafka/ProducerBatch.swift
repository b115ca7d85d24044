/// Many records laid out for one `enqueue`: keys and values back to back in a single byte buffer,
/// topics and header sets named once and referred to by index.
///
/// `[ProducerRecord]` costs two or three heap buffers per record (key, value, headers); a batch
/// costs a few per batch, and values can be encoded straight into it. librdkafka copies each
/// record out of the buffer when it takes it, so the batch may be dropped once enqueued.
public struct ProducerBatch: Sendable {
    /// A topic registered with ``addTopic(_:)``.
    public struct Topic: Sendable, Hashable {
        let index: Int
    }

    /// A header set registered with ``addHeaders(_:)``.
    public struct Headers: Sendable, Hashable {
        let index: Int
    }

    struct Entry {
        var topic: Int32
        var headers: Int32  // -1: none
        var keyStart: Int
        var keyCount: Int  // -1: no key
        var valueEnd: Int  // the value runs from the key's end to here
    }

    private(set) var topicNames: [String] = []
    private(set) var headerSets: [[KafkaHeader]] = []
    private(set) var bytes: [UInt8] = []
    private(set) var entries: [Entry] = []

    /// `records` and `bytes` size the buffers up front; both grow as needed.
    public init(reservingRecords records: Int = 0, bytes: Int = 0) {
        entries.reserveCapacity(records)
        self.bytes.reserveCapacity(bytes)
    }

    public mutating func reserveCapacity(records: Int, bytes: Int) {
        entries.reserveCapacity(records)
        self.bytes.reserveCapacity(bytes)
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    /// Bytes of keys and values held.
    public var byteCount: Int { bytes.count }

    public mutating func addTopic(_ name: String) -> Topic {
        if let index = topicNames.firstIndex(of: name) { return Topic(index: index) }
        topicNames.append(name)
        return Topic(index: topicNames.count - 1)
    }

    public mutating func addHeaders(_ headers: [KafkaHeader]) -> Headers {
        headerSets.append(headers)
        return Headers(index: headerSets.count - 1)
    }

    /// Appends a record whose key is the UTF-8 of `key` and whose value `writeValue` appends to the
    /// buffer it is given (it must only append).
    public mutating func append(topic: Topic, key: String?, headers: Headers? = nil, value writeValue: (inout [UInt8]) -> Void) {
        let keyStart = bytes.count
        if let key { bytes.append(contentsOf: key.utf8) }
        appendEntry(topic: topic, headers: headers, keyStart: keyStart, hasKey: key != nil, writeValue: writeValue)
    }

    /// Appends a record with a key given as bytes.
    public mutating func append(topic: Topic, key: [UInt8]?, headers: Headers? = nil, value writeValue: (inout [UInt8]) -> Void) {
        let keyStart = bytes.count
        if let key { bytes.append(contentsOf: key) }
        appendEntry(topic: topic, headers: headers, keyStart: keyStart, hasKey: key != nil, writeValue: writeValue)
    }

    /// Appends a record with a ready value.
    public mutating func append(topic: Topic, key: [UInt8]?, value: [UInt8], headers: Headers? = nil) {
        append(topic: topic, key: key, headers: headers) { $0.append(contentsOf: value) }
    }

    private mutating func appendEntry(
        topic: Topic, headers: Headers?, keyStart: Int, hasKey: Bool, writeValue: (inout [UInt8]) -> Void
    ) {
        let keyCount = hasKey ? bytes.count - keyStart : -1
        writeValue(&bytes)
        entries.append(Entry(
            topic: Int32(topic.index), headers: Int32(headers?.index ?? -1),
            keyStart: keyStart, keyCount: keyCount, valueEnd: bytes.count))
    }

    /// The topic of record `index`.
    public func topic(of index: Int) -> String { topicNames[Int(entries[index].topic)] }

    /// The value bytes of record `index` (a copy: for tests and samples, not the hot path).
    public func value(of index: Int) -> [UInt8] {
        let entry = entries[index]
        return Array(bytes[(entry.keyStart + max(entry.keyCount, 0))..<entry.valueEnd])
    }

    /// The key bytes of record `index`, nil when it has none.
    public func key(of index: Int) -> [UInt8]? {
        let entry = entries[index]
        guard entry.keyCount >= 0 else { return nil }
        return Array(bytes[entry.keyStart..<(entry.keyStart + entry.keyCount)])
    }
}
