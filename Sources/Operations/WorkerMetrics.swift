import Foundation
import Prometheus
import Synchronization
import WorkerRuntime

/// The numbers `/metrics` shows for a worker, in a form tests and other processes can build.
public struct WorkerMetricsSample: Sendable, Equatable {
    public var sent = 0
    public var failed = 0
    public var skipped = 0
    public var expired = 0
    public var deadLettered = 0
    public var retried = 0
    public var held = 0
    public var lanes = 0
    public var fetchingPaused = false

    public init() {}

    public init(_ snapshot: WorkerCounters.Snapshot) {
        sent = snapshot.sent
        failed = snapshot.failed
        skipped = snapshot.skipped
        expired = snapshot.expired
        deadLettered = snapshot.deadLettered
        retried = snapshot.retried
        held = snapshot.held
        lanes = snapshot.lanes
        fetchingPaused = snapshot.fetchingPaused
    }
}

/// Maps worker samples and consumer lag onto a Prometheus registry, updated at each scrape.
///
/// Metrics: `broadcast_worker_messages_total{outcome}` (sent, failed, skipped, expired,
/// dead_lettered), `broadcast_worker_retries_total`, `broadcast_worker_dead_letters_total`,
/// `broadcast_worker_records_held`, `broadcast_worker_lanes`, `broadcast_worker_fetching_paused`
/// (0 or 1), `broadcast_consumer_lag{topic,partition}`.
public final class WorkerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let sample: @Sendable () -> WorkerMetricsSample
    private let lags: @Sendable () -> [PartitionLag]
    private let outcomes: [(String, Counter)]
    private let retries: Counter
    private let deadLetters: Counter
    private let held: Gauge
    private let lanes: Gauge
    private let paused: Gauge
    /// Scrapes are serialized so counters and lag gauges are never half updated.
    private let scrape = Mutex<[PartitionLag: Gauge]>([:])

    public init(
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        sample: @escaping @Sendable () -> WorkerMetricsSample,
        lags: @escaping @Sendable () -> [PartitionLag] = { [] }
    ) {
        self.registry = registry
        self.sample = sample
        self.lags = lags
        let messages = Self.name("messages", unit: "total", help: "Messages finished by this worker since it started, by outcome.")
        outcomes = ["sent", "failed", "skipped", "expired", "dead_lettered"].map {
            ($0, registry.makeCounter(descriptor: messages, labels: [("outcome", $0)]))
        }
        retries = registry.makeCounter(descriptor: Self.name("retries", unit: "total", help: "Send attempts retried after a retryable failure."))
        deadLetters = registry.makeCounter(descriptor: Self.name("dead_letters", unit: "total", help: "Records sent to the dead-letter topic."))
        held = registry.makeGauge(descriptor: Self.name("records_held", help: "Records held in device lanes now."))
        lanes = registry.makeGauge(descriptor: Self.name("lanes", help: "Device lanes with work now."))
        paused = registry.makeGauge(descriptor: Self.name("fetching_paused", help: "1 while fetching is paused for backpressure."))
    }

    /// Convenience for a running worker: reads its counters at each scrape.
    public convenience init(counters: WorkerCounters, lag: ConsumerLagTracker? = nil) {
        self.init(sample: { WorkerMetricsSample(counters.snapshot) }, lags: { lag?.lags ?? [] })
    }

    /// Updates every metric from the providers and returns the Prometheus text exposition.
    public func render() -> String {
        let sample = sample()
        let lags = lags()
        return scrape.withLock { lagGauges in
            let values = [sample.sent, sample.failed, sample.skipped, sample.expired, sample.deadLettered]
            for ((_, counter), value) in zip(outcomes, values) { Self.set(counter, value) }
            Self.set(retries, sample.retried)
            Self.set(deadLetters, sample.deadLettered)
            held.set(Double(sample.held))
            lanes.set(Double(sample.lanes))
            paused.set(sample.fetchingPaused ? 1.0 : 0.0)
            updateLag(lags, gauges: &lagGauges)
            return registry.emitToString()
        }
    }

    /// `broadcast_<subsystem>_<metric>[_<unit>]`: every metric of the worker's endpoint.
    private static func name(_ metric: String, subsystem: String = "worker", unit: String = "", help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "broadcast", subsystem: subsystem, metricName: metric, unitName: unit, helpText: help)
    }

    private func updateLag(_ lags: [PartitionLag], gauges: inout [PartitionLag: Gauge]) {
        let descriptor = Self.name(
            "lag", subsystem: "consumer", help: "Messages behind the high watermark, per partition (librdkafka statistics).")
        var seen: Set<PartitionLag> = []
        for lag in lags {
            let key = PartitionLag(topic: lag.topic, partition: lag.partition, lag: 0)
            seen.insert(key)
            let gauge = gauges[key] ?? registry.makeGauge(
                descriptor: descriptor, labels: [("topic", lag.topic), ("partition", String(lag.partition))])
            gauges[key] = gauge
            gauge.set(Double(lag.lag))
        }
        // Partitions this worker gave up disappear instead of showing a stale lag.
        for (key, gauge) in gauges where !seen.contains(key) {
            registry.unregisterGauge(gauge)
            gauges[key] = nil
        }
    }

    /// Counters mirror totals kept elsewhere, so they are set, not counted.
    private static func set(_ counter: Counter, _ value: Int) {
        counter.reset()
        counter.increment(by: Int64(value))
    }
}
