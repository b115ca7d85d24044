import Foundation
import Kafka

/// What went wrong in an ops command, with what the operator can do about it.
public enum OperationsError: Error, Sendable, CustomStringConvertible {
    case kafka(KafkaError)
    /// The topic is not on the cluster (wrong `--topic-prefix`, or nothing was ever published).
    case topicNotFound(String)
    /// Reading up to the end of a topic took longer than allowed.
    case catchUpTimedOut(topic: String, remaining: [Int32: Int64])
    /// The projection's SQLite file could not be opened, migrated or written.
    case store(path: String, underlying: String)
    case invalidArgument(String)
    /// The metrics server could not bind its address.
    case bind(host: String, port: Int, underlying: String)

    public var description: String {
        switch self {
        case .kafka(let error):
            return "Kafka: \(error)"
        case .topicNotFound(let topic):
            return "topic \(topic) does not exist on this cluster: check --topic-prefix and --bootstrap-servers"
        case .catchUpTimedOut(let topic, let remaining):
            let parts = remaining.sorted { $0.key < $1.key }.map { "[\($0.key)] \($0.value) left" }.joined(separator: ", ")
            return "could not read \(topic) to its end in time (\(parts)): is the cluster reachable? retry with a longer --timeout"
        case .store(let path, let underlying):
            return "projection store \(path): \(underlying) (is another `broadcast status --store` using it, or is the disk full?)"
        case .invalidArgument(let message):
            return message
        case .bind(let host, let port, let underlying):
            return "metrics server could not listen on \(host):\(port): \(underlying) (port in use? pick another --metrics-port)"
        }
    }
}
