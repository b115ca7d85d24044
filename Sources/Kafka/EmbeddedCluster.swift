import CRdKafka
import Foundation
import Logging
import Synchronization

/// Kafka protocol request types, for injecting errors into the embedded cluster.
public enum KafkaRequest: Int16, Sendable {
    case produce = 0, fetch = 1, listOffsets = 2, metadata = 3
    case offsetCommit = 8, offsetFetch = 9, findCoordinator = 10
    case joinGroup = 11, heartbeat = 12, leaveGroup = 13, syncGroup = 14
    case initProducerId = 22
}

/// Broker error codes worth injecting in tests (Kafka protocol numbers).
public enum BrokerErrorCode: Int32, Sendable {
    case notLeaderOrFollower = 6
    case requestTimedOut = 7
    case coordinatorNotAvailable = 15
    case notCoordinator = 16
    case notEnoughReplicas = 19
    case rebalanceInProgress = 27
}

/// A Kafka cluster inside this process (librdkafka's mock cluster): N brokers on 127.0.0.1 that any
/// Kafka client can reach over TCP. It keeps at most about 5 MiB per partition (see KAFKA-NOTES).
public final class EmbeddedKafkaCluster: @unchecked Sendable {
    private let client: OpaquePointer
    private let cluster: OpaquePointer
    private let context: ClientContext
    private let destroyed = Atomic<Bool>(false)
    public let brokerCount: Int
    /// Comma-separated `host:port` of every broker.
    public let bootstrapServers: String

    public init(brokers: Int = 3, logger: Logger = Logger(label: "kafka.embedded")) throws(KafkaError) {
        guard brokers >= 1 else { throw KafkaError.configuration("an embedded cluster needs at least one broker, got \(brokers)") }
        // This client never connects anywhere; only errors from it are worth logging.
        var native = try NativeConfiguration([("client.id", "broadcast-embedded-cluster"), ("log_level", "3")])
        let context = ClientContext(logger: logger)
        native.install(context: context)
        client = try native.makeClient(type: RD_KAFKA_PRODUCER, context: "creating the embedded cluster's client")
        guard let cluster = rd_kafka_mock_cluster_new(client, Int32(brokers)) else {
            rd_kafka_destroy(client)
            throw KafkaError(RD_KAFKA_RESP_ERR__FAIL, context: "starting the embedded cluster", detail: "librdkafka could not start \(brokers) mock brokers")
        }
        self.cluster = cluster
        self.context = context
        brokerCount = brokers
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    deinit { shutDown() }

    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws(KafkaError) {
        let err = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(min(replicationFactor, brokerCount)))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "creating topic \(name)") }
    }

    /// Makes a broker (1...brokerCount) refuse connections; its data is kept.
    public func setBrokerDown(_ broker: Int32) throws(KafkaError) {
        try Self.mockCommand("taking broker \(broker) down") { rd_kafka_mock_broker_set_down(cluster, broker) }
    }

    public func setBrokerUp(_ broker: Int32) throws(KafkaError) {
        try Self.mockCommand("bringing broker \(broker) up") { rd_kafka_mock_broker_set_up(cluster, broker) }
    }

    /// A mock command, asked again a few times when the mock's thread answers `_DESTROY` (seen once
    /// on a loaded machine with the cluster still running); the commands are idempotent.
    private static func mockCommand(_ what: String, _ command: () -> rd_kafka_resp_err_t) throws(KafkaError) {
        var err = command()
        for _ in 0..<3 where err == RD_KAFKA_RESP_ERR__DESTROY {
            Thread.sleep(forTimeInterval: 0.2)
            err = command()
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: what) }
    }

    public func setRoundTripTime(broker: Int32, milliseconds: Int) throws(KafkaError) {
        let err = rd_kafka_mock_broker_set_rtt(cluster, broker, Int32(milliseconds))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "setting round trip time of broker \(broker)") }
    }

    /// The next requests of this type, on any broker, fail with these errors in order.
    public func injectErrors(_ request: KafkaRequest, _ errors: [BrokerErrorCode]) {
        var codes = errors.map { rd_kafka_resp_err_t(rawValue: $0.rawValue) }
        rd_kafka_mock_push_request_errors_array(cluster, request.rawValue, codes.count, &codes)
    }

    public func clearInjectedErrors(_ request: KafkaRequest) {
        rd_kafka_mock_clear_request_errors(cluster, request.rawValue)
    }

    /// Stops the brokers. Clients still connected see them go away.
    public func shutDown() {
        guard !destroyed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(client)
    }
}
