import CRdKafka

/// Settings shared by every client. `properties` passes any librdkafka property through unchanged and is
/// applied last, so it overrides the typed fields (e.g. `security.protocol=SASL_SSL`).
public struct KafkaClientOptions: Sendable {
    public var bootstrapServers: String
    public var clientId: String
    public var properties: [String: String]

    public init(bootstrapServers: String, clientId: String = "broadcast", properties: [String: String] = [:]) {
        self.bootstrapServers = bootstrapServers
        self.clientId = clientId
        self.properties = properties
    }

    var baseProperties: [(String, String)] {
        [("bootstrap.servers", bootstrapServers), ("client.id", clientId)]
    }
}

public struct ProducerConfiguration: Sendable {
    public var client: KafkaClientOptions
    /// Idempotent production: retries never duplicate or reorder records on a real broker.
    public var idempotence = true
    public var acks = "all"
    /// `murmur2_random` places keyed records on the same partitions as the Java client.
    public var partitioner = "murmur2_random"
    public var lingerMilliseconds = 5
    /// How long librdkafka keeps retrying a record before reporting it failed.
    public var deliveryTimeoutMilliseconds = 120_000
    /// Records waiting in librdkafka's queue before `send` waits for room.
    public var queueCapacity = 500_000
    public var compression: String?

    public init(client: KafkaClientOptions) {
        self.client = client
    }

    public init(bootstrapServers: String) {
        self.init(client: KafkaClientOptions(bootstrapServers: bootstrapServers))
    }

    var properties: [(String, String)] {
        var result = client.baseProperties
        result += [
            ("enable.idempotence", String(idempotence)),
            ("acks", acks),
            ("partitioner", partitioner),
            ("linger.ms", String(lingerMilliseconds)),
            ("delivery.timeout.ms", String(deliveryTimeoutMilliseconds)),
            ("queue.buffering.max.messages", String(queueCapacity)),
        ]
        if let compression { result.append(("compression.codec", compression)) }
        return result + client.properties.sorted { $0.key < $1.key }
    }
}

public enum PartitionAssignmentStrategy: String, Sendable, CaseIterable {
    case range
    case roundRobin = "roundrobin"
    case cooperativeSticky = "cooperative-sticky"
}

public struct ConsumerConfiguration: Sendable {
    public var client: KafkaClientOptions
    public var groupId: String
    /// Every member of a group must list the same strategy.
    public var assignmentStrategy: PartitionAssignmentStrategy = .cooperativeSticky
    public var sessionTimeoutMilliseconds = 10_000
    /// How often the member tells the coordinator it is alive, and so how soon it learns that a
    /// rebalance began. Default: a tenth of the session timeout.
    public var heartbeatIntervalMilliseconds: Int?
    public var maxPollIntervalMilliseconds = 300_000
    /// Where a partition without a committed offset starts.
    public var startFromEarliest = true
    /// Most messages handed over in one batch.
    public var maxBatchSize = 2_000
    /// Messages fetched but not yet taken by the application; the poll thread waits above it.
    public var maxBufferedMessages = 20_000
    /// How long a fetch waits at the broker when a partition has nothing new. librdkafka's 500 ms
    /// default shows up as latency on quiet partitions; a worker wants records as they arrive.
    public var fetchMaxWaitMilliseconds = 100
    /// Bytes a fetch waits for (up to `fetchMaxWaitMilliseconds`) before the broker answers. 1 answers
    /// at once; a reader that follows a busy topic and can wait fetches fewer, larger batches.
    public var fetchMinBytes = 1
    /// When set, librdkafka emits statistics (lag, queues, brokers) at this interval.
    public var statisticsIntervalMilliseconds: Int?
    /// How long `close` waits for librdkafka to leave the group (the final revocation included):
    /// past it the client is abandoned, so a close that never returns (a broker gone for good, a
    /// librdkafka fault) cannot hold the process open; the group drops the member after its session.
    public var closeTimeout: Duration = .seconds(60)

    public init(client: KafkaClientOptions, groupId: String) {
        self.client = client
        self.groupId = groupId
    }

    public init(bootstrapServers: String, groupId: String) {
        self.init(client: KafkaClientOptions(bootstrapServers: bootstrapServers), groupId: groupId)
    }

    var properties: [(String, String)] {
        var result = client.baseProperties
        result += [
            ("group.id", groupId),
            // Offsets are committed explicitly by the application, never behind its back.
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("partition.assignment.strategy", assignmentStrategy.rawValue),
            ("session.timeout.ms", String(sessionTimeoutMilliseconds)),
            ("heartbeat.interval.ms", String(heartbeatIntervalMilliseconds ?? max(100, sessionTimeoutMilliseconds / 10))),
            ("max.poll.interval.ms", String(maxPollIntervalMilliseconds)),
            ("auto.offset.reset", startFromEarliest ? "earliest" : "latest"),
            ("fetch.wait.max.ms", String(fetchMaxWaitMilliseconds)),
            ("fetch.min.bytes", String(fetchMinBytes)),
        ]
        if let statisticsIntervalMilliseconds {
            result.append(("statistics.interval.ms", String(statisticsIntervalMilliseconds)))
        }
        return result + client.properties.sorted { $0.key < $1.key }
    }
}

/// Owns an `rd_kafka_conf_t` until it is handed to `rd_kafka_new`.
struct NativeConfiguration: ~Copyable {
    private(set) var handle: OpaquePointer?

    init(_ properties: [(String, String)]) throws(KafkaError) {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError.configuration("librdkafka could not allocate a configuration")
        }
        handle = conf
        for (name, value) in properties {
            try set(name, value)
        }
    }

    mutating func set(_ name: String, _ value: String) throws(KafkaError) {
        guard let handle else { return }
        var errstr = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(handle, name, value, &errstr, errstr.count)
        guard result == RD_KAFKA_CONF_OK else {
            let reason = String(cString: errstr)
            let kind = result == RD_KAFKA_CONF_UNKNOWN ? "unknown property" : "invalid value"
            throw KafkaError.configuration("\(kind) '\(name)': \(reason)")
        }
    }

    /// Hands the configuration to `rd_kafka_new`, which owns it from then on when it succeeds.
    consuming func makeClient(type: rd_kafka_type_t, context: String) throws(KafkaError) -> OpaquePointer {
        guard let conf = handle else { throw KafkaError.configuration("configuration already used") }
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(type, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError.configuration("\(context): \(String(cString: errstr))")
        }
        handle = nil
        return rk
    }

    deinit {
        if let handle { rd_kafka_conf_destroy(handle) }
    }
}

/// Parses `key=value` pairs as given on a command line (`--kafka security.protocol=SASL_SSL`).
public func parseKafkaProperties(_ pairs: [String]) throws(KafkaError) -> [String: String] {
    var result: [String: String] = [:]
    for pair in pairs {
        guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
            throw KafkaError.configuration("expected key=value, got '\(pair)'")
        }
        result[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
    }
    return result
}
