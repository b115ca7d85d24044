import CoreMetrics
import Foundation
import Synchronization

/// Consumer lag of one partition, as librdkafka reports it.
public struct PartitionLag: Sendable, Equatable, Hashable {
    public var topic: String
    public var partition: Int32
    /// Messages between the committed (or consumed) position and the high watermark.
    public var lag: Int64

    public init(topic: String, partition: Int32, lag: Int64) {
        self.topic = topic
        self.partition = partition
        self.lag = lag
    }
}

/// Reads `topics.<topic>.partitions.<partition>.consumer_lag` out of librdkafka's statistics JSON
/// (`statistics.interval.ms`). The internal partition `-1` and unknown lags (`-1`) are left out.
public enum KafkaStatistics {
    public static func consumerLag(json: String) -> [PartitionLag] {
        guard let data = json.data(using: .utf8),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let topics = root["topics"] as? [String: Any]
        else { return [] }
        var result: [PartitionLag] = []
        for (topicName, topicValue) in topics {
            guard let topic = topicValue as? [String: Any], let partitions = topic["partitions"] as? [String: Any] else { continue }
            for (key, value) in partitions {
                guard let partition = Int32(key), partition >= 0,
                      let fields = value as? [String: Any],
                      let lag = (fields["consumer_lag"] as? NSNumber)?.int64Value, lag >= 0
                else { continue }
                result.append(PartitionLag(topic: topicName, partition: partition, lag: lag))
            }
        }
        return result.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }
}

/// Keeps the lag from the latest statistics and publishes it as the gauge
/// `broadcast_consumer_lag{topic,partition}` when statistics arrive (not at scrape time). Pass
/// `handle` as the consumer's `statisticsHandler` (with `ConsumerConfiguration.statisticsIntervalMilliseconds` set).
public final class ConsumerLagTracker: Sendable {
    private struct State {
        var latest: [PartitionLag] = []
        var gauges: [PartitionKey: Meter] = [:]
    }

    private struct PartitionKey: Hashable {
        var topic: String
        var partition: Int32
    }

    private let state = Mutex(State())
    private let factory: any MetricsFactory

    /// - Parameter factory: where the gauges go; the process-wide `MetricsSystem.factory` unless given.
    public init(factory: (any MetricsFactory)? = nil) {
        self.factory = factory ?? MetricsSystem.factory
    }

    /// A `StatisticsHandler`: parses on librdkafka's thread, keeps only the numbers.
    public func handle(_ json: String) {
        let lags = KafkaStatistics.consumerLag(json: json)
        state.withLock { state in
            state.latest = lags
            var seen: Set<PartitionKey> = []
            for lag in lags {
                let key = PartitionKey(topic: lag.topic, partition: lag.partition)
                seen.insert(key)
                let gauge = state.gauges[key] ?? Meter(
                    label: "broadcast_consumer_lag", dimensions: [("topic", lag.topic), ("partition", String(lag.partition))],
                    factory: factory)
                state.gauges[key] = gauge
                gauge.set(Double(lag.lag))
            }
            // Partitions this worker gave up disappear instead of showing a stale lag.
            for (key, gauge) in state.gauges where !seen.contains(key) {
                gauge.destroy()
                state.gauges[key] = nil
            }
        }
    }

    public var lags: [PartitionLag] { state.withLock { $0.latest } }
}
