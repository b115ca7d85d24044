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

/// Keeps the lag from the latest statistics. Pass `handle` as the consumer's `statisticsHandler`
/// (with `ConsumerConfiguration.statisticsIntervalMilliseconds` set) and `lags` to the metrics.
public final class ConsumerLagTracker: Sendable {
    private let latest = Mutex<[PartitionLag]>([])

    public init() {}

    /// A `StatisticsHandler`: parses on librdkafka's thread, keeps only the numbers.
    public func handle(_ json: String) {
        let lags = KafkaStatistics.consumerLag(json: json)
        latest.withLock { $0 = lags }
    }

    public var lags: [PartitionLag] { latest.withLock { $0 } }
}
