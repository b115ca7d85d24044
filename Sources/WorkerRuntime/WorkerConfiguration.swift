import BroadcastModel
import DeviceWorker
import Foundation
import Kafka

/// How a device worker behaves; the defaults suit production.
public struct WorkerConfiguration: Sendable {
    public var topics: TopicNames
    /// Written into status events and dead-letter headers so ops can tell workers apart.
    public var workerName: String
    /// Fetching pauses when this many records are held in lanes, and resumes below `resumeBelowRecords`.
    public var maxHeldRecords = 50_000
    public var resumeBelowRecords = 25_000
    /// How often finished progress is committed.
    public var commitInterval: Duration = .milliseconds(200)
    /// How long a revocation waits for sends in flight before committing what is done.
    public var revokeGrace: Duration = .seconds(15)
    /// How long shutdown waits for sends in flight.
    public var shutdownGrace: Duration = .seconds(20)
    public var retryPolicy = RetryPolicy()
    /// How long a worker waits after an assignment before reading where to resume, so that previous
    /// owners can hand back progress the rebalance refused to commit.
    public var handOverSettleDelay: Duration = .seconds(2)
    /// Pace a device's first send after takeover as if it had just sent (the previous owner may have).
    public var paceFirstSendAfterTakeover = true
    /// Emit a `processing` status before each send attempt.
    public var emitProcessingEvents = true

    public init(topics: TopicNames = TopicNames(), workerName: String = WorkerConfiguration.defaultWorkerName) {
        self.topics = topics
        self.workerName = workerName
    }

    /// Eager assignment: librdkafka 2.0.2 calls the revocation handler *before* the member rejoins,
    /// so progress is committed while the generation is still current. With cooperative-sticky the
    /// member rejoins first, and a commit queued behind its JoinGroup is refused with
    /// ILLEGAL_GENERATION, which librdkafka treats as a lost assignment (no clean hand-over).
    public static let recommendedAssignmentStrategy = PartitionAssignmentStrategy.roundRobin

    /// A worker's fetches return within this when a partition is quiet, so a message published to an
    /// idle device is picked up at once (the cost: a few more fetch requests while idle).
    public static let recommendedFetchMaxWaitMilliseconds = 10

    /// Bounds on what librdkafka prefetches ahead of the worker. Its defaults (64 MB and 100,000
    /// records per partition) would hold far more than the lanes do; the worker pauses fetching at
    /// `maxHeldRecords` anyway, so a small prefetch costs no throughput.
    public static let recommendedPrefetch: [String: String] = [
        "queued.max.messages.kbytes": "8192",
        "queued.min.messages": "1000",
        "fetch.max.bytes": "8388608",
    ]

    /// Frequent heartbeats: a member learns of a rebalance (and hands over) sooner.
    public static func heartbeatInterval(sessionTimeoutMilliseconds: Int) -> Int {
        max(100, sessionTimeoutMilliseconds / 20)
    }

    /// host-pid: unique per process, readable in status events.
    public static var defaultWorkerName: String {
        "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }
}
