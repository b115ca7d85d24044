import BroadcastModel
import CoreMetrics
import DeviceWorker
import Foundation
import Kafka

/// How a device worker behaves; the defaults suit production.
public struct WorkerConfiguration: Sendable {
    public var topics: TopicNames
    /// Written into status events and dead-letter headers so ops can tell workers apart.
    public var workerName: String
    /// Fetching pauses when this many records are held in lanes or await their final event's
    /// acknowledgement, and resumes below `resumeBelowRecords`.
    public var maxHeldRecords = Self.defaultMaxHeldRecords
    public var resumeBelowRecords = Self.resumeThreshold(maxHeld: Self.defaultMaxHeldRecords)

    /// How far a worker looks ahead in its partitions: enough to hold the next message of every
    /// device it owns (campaigns interleave devices) several times over, at 1–3 KB a record. A
    /// worker owning more than ~10,000 busy devices wants more (`--max-held`).
    public static let defaultMaxHeldRecords = 30_000

    /// Fetching resumes at 80% of the bound: a resumed partition fetches again from the position
    /// the worker reached, so short pauses cost less than long ones (measured with a 30,000 bound:
    /// 0.76 of the relay's throughput resuming at 80%, 0.64 at 50%).
    public static func resumeThreshold(maxHeld: Int) -> Int { maxHeld * 4 / 5 }
    /// Sends handed to senders at once, across all devices. Each device has at most one; this bounds
    /// the sum, so that a burst of due lanes cannot open more requests than the HTTP pool has
    /// connections (a send waiting for a pooled connection would time out and be retried). Keep the
    /// senders' connections per host (`HTTPTransport.Configuration.maxConnectionsPerHost`) at least this.
    public var maxSendsInFlight = Self.defaultMaxSendsInFlight
    public static let defaultMaxSendsInFlight = 64
    /// How often finished progress is committed. With device state on, each commit first writes one
    /// state record per device that sent since the previous commit (see `WorkerCore+DeviceState`).
    public var commitInterval: Duration = .milliseconds(200)
    /// How long a revocation waits for sends in flight before committing what is done.
    public var revokeGrace: Duration = .seconds(15)
    /// The whole graceful stop, from `shutdown()` to the end of `run()` and the caller's closing of
    /// the producer: sends in flight get all of it but `shutdownReserve`, then the final commit,
    /// leaving the group and the producer's flush share the rest. A deployment gives the process
    /// longer than this before it kills it (`terminationGracePeriodSeconds`, see deploy/).
    public var shutdownGrace: Duration = .seconds(Self.defaultShutdownGraceSeconds)
    public static let defaultShutdownGraceSeconds = 30

    /// What sends in flight leave of the shutdown grace for committing, leaving and flushing.
    public var shutdownReserve: Duration { min(.seconds(10), shutdownGrace / 3) }
    public var retryPolicy = RetryPolicy()
    /// How long a new owner waits at most for a previous owner to hand back progress whose commit
    /// the rebalance refused (librdkafka's mock cluster does). Only partitions whose last commit
    /// lacks the hand-over mark wait: on a broker that accepts the revocation's commit, none do.
    public var handOverSettleDelay: Duration = .seconds(2)
    /// A device whose next send must wait at least this long (quiet hours, a cap, a cool-off, a far
    /// `scheduledAt`) is parked: its records leave memory and the commit point moves past them;
    /// they are read again from the log when it wakes. Needs device state; zero never parks.
    public var parkAfter: Duration = .seconds(60)
    /// How long an assignment waits at most for the device state (`broadcast.devices`) to be read
    /// to its end; past it the worker goes on, and sends hold until the state is read.
    public var deviceStateLoadTimeout: Duration = .seconds(10)
    /// Pace a device's first send after takeover as if it had just sent (the previous owner may
    /// have), unless the device state knows its real last send.
    public var paceFirstSendAfterTakeover = true
    /// Where the worker's metrics go (see `WorkerCounters`); nil: the process-wide `MetricsSystem.factory`.
    public var metricsFactory: (any MetricsFactory)?
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
        "queued.min.messages": "10000",
        "fetch.max.bytes": "8388608",
    ]

    /// The consumer settings every worker runs with: `assignmentStrategy` and `fetchMaxWaitMilliseconds`
    /// recommended above, heartbeats from the session timeout, and the prefetch bounds unless the
    /// configuration already names them (an operator's `--kafka` settings win).
    public static func consumer(_ base: ConsumerConfiguration) -> ConsumerConfiguration {
        var consumer = base
        consumer.assignmentStrategy = recommendedAssignmentStrategy
        consumer.heartbeatIntervalMilliseconds = heartbeatInterval(sessionTimeoutMilliseconds: consumer.sessionTimeoutMilliseconds)
        consumer.fetchMaxWaitMilliseconds = recommendedFetchMaxWaitMilliseconds
        consumer.client.properties.merge(recommendedPrefetch) { given, _ in given }
        return consumer
    }

    /// Frequent heartbeats: a member learns of a rebalance (and hands over) sooner.
    public static func heartbeatInterval(sessionTimeoutMilliseconds: Int) -> Int {
        max(100, sessionTimeoutMilliseconds / 20)
    }

    /// host-pid: unique per process, readable in status events.
    public static var defaultWorkerName: String {
        "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }
}
