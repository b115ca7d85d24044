import CoreMetrics
import Synchronization

/// Running totals since the worker started, kept twice at the moment they change: in atomics for
/// logs, the dev summary and benchmarks (`snapshot`), and in swift-metrics for whatever backend
/// the process bootstrapped (Prometheus for `/metrics`). Nothing is recomputed at a scrape.
///
/// Metric names (Prometheus style): `broadcast_worker_messages_total{outcome}` (sent, failed,
/// skipped, expired, dead_lettered, rerouted), `broadcast_worker_retries_total`,
/// `broadcast_worker_dead_letters_total`, and gauges `broadcast_worker_records_held`,
/// `broadcast_worker_lanes`, `broadcast_worker_sends_in_flight`, `broadcast_worker_fetching_paused`,
/// `broadcast_worker_parked_devices`.
public final class WorkerCounters: Sendable {
    let sent: CountedMetric
    let failed: CountedMetric
    let retried: CountedMetric
    let skipped: CountedMetric
    let expired: CountedMetric
    let deadLettered: CountedMetric
    let rerouted: CountedMetric
    let held: GaugedValue
    let lanes: GaugedValue
    let sendsInFlight: GaugedValue
    let pausedForBackpressure: GaugedValue
    let parkedDevices: GaugedValue

    /// - Parameter factory: where the metrics go; the process-wide `MetricsSystem.factory` unless
    ///   given (tests and benchmarks pass their own, so workers in one process stay apart).
    public init(factory: (any MetricsFactory)? = nil) {
        let factory = factory ?? MetricsSystem.factory
        func outcome(_ name: String) -> CountedMetric {
            CountedMetric(Counter(label: "broadcast_worker_messages_total", dimensions: [("outcome", name)], factory: factory))
        }
        sent = outcome("sent")
        failed = outcome("failed")
        skipped = outcome("skipped")
        expired = outcome("expired")
        rerouted = outcome("rerouted")
        // A dead letter finishes a message and is also counted on its own, as before.
        deadLettered = CountedMetric(
            Counter(label: "broadcast_worker_messages_total", dimensions: [("outcome", "dead_lettered")], factory: factory),
            also: Counter(label: "broadcast_worker_dead_letters_total", factory: factory)
        )
        retried = CountedMetric(Counter(label: "broadcast_worker_retries_total", factory: factory))
        held = GaugedValue(Meter(label: "broadcast_worker_records_held", factory: factory))
        lanes = GaugedValue(Meter(label: "broadcast_worker_lanes", factory: factory))
        sendsInFlight = GaugedValue(Meter(label: "broadcast_worker_sends_in_flight", factory: factory))
        pausedForBackpressure = GaugedValue(Meter(label: "broadcast_worker_fetching_paused", factory: factory))
        parkedDevices = GaugedValue(Meter(label: "broadcast_worker_parked_devices", factory: factory))
    }

    public struct Snapshot: Sendable, Equatable, Codable {
        public var sent: Int
        public var failed: Int
        public var retried: Int
        public var skipped: Int
        public var expired: Int
        public var deadLettered: Int
        /// Records held in lanes now.
        public var held: Int
        public var lanes: Int
        /// Sends handed to senders and not yet answered.
        public var sendsInFlight: Int
        public var fetchingPaused: Bool
        /// Devices whose waiting records are on the log, not in memory.
        public var parkedDevices: Int
    }

    public var snapshot: Snapshot {
        Snapshot(
            sent: sent.value, failed: failed.value, retried: retried.value, skipped: skipped.value,
            expired: expired.value, deadLettered: deadLettered.value, held: held.value, lanes: lanes.value,
            sendsInFlight: sendsInFlight.value, fetchingPaused: pausedForBackpressure.value != 0,
            parkedDevices: parkedDevices.value
        )
    }
}

/// A total that only grows.
final class CountedMetric: Sendable {
    private let total = Atomic<Int>(0)
    private let counters: [Counter]

    init(_ counter: Counter, also: Counter? = nil) {
        counters = [counter] + (also.map { [$0] } ?? [])
    }

    var value: Int { total.load(ordering: .relaxed) }

    func bump() {
        total.add(1, ordering: .relaxed)
        for counter in counters { counter.increment() }
    }
}

/// A level that goes up and down; the metric is written only when the level changes.
final class GaugedValue: Sendable {
    private let level = Atomic<Int>(0)
    private let meter: Meter

    init(_ meter: Meter) {
        self.meter = meter
        meter.set(0)
    }

    var value: Int { level.load(ordering: .relaxed) }

    func store(_ value: Int) {
        guard level.exchange(value, ordering: .relaxed) != value else { return }
        meter.set(value)
    }

    func store(_ flag: Bool) { store(flag ? 1 : 0) }
}
