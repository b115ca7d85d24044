import ArgumentParser
import BroadcastModel
import Foundation
import Kafka
import Logging

/// Options of every command that talks to Kafka.
struct KafkaOptions: ParsableArguments {
    @Option(name: .customLong("bootstrap-servers"), help: "Kafka bootstrap servers, host:port[,host:port] (env BROADCAST_BOOTSTRAP_SERVERS).")
    var bootstrapServers: String?

    @Option(name: .customLong("kafka"), help: ArgumentHelp("A librdkafka property passed through, e.g. security.protocol=SASL_SSL (repeatable).", valueName: "key=value"))
    var properties: [String] = []

    @Option(name: .customLong("topic-prefix"), help: "Prefix for the broadcast.* topic names (env BROADCAST_TOPIC_PREFIX).")
    var topicPrefix: String?

    var topics: TopicNames {
        TopicNames(prefix: topicPrefix ?? ProcessInfo.processInfo.environment["BROADCAST_TOPIC_PREFIX"] ?? "")
    }

    func clientOptions(clientId: String) throws -> KafkaClientOptions {
        guard let servers = bootstrapServers ?? ProcessInfo.processInfo.environment["BROADCAST_BOOTSTRAP_SERVERS"], !servers.isEmpty else {
            throw ValidationError("no Kafka to talk to: pass --bootstrap-servers or set BROADCAST_BOOTSTRAP_SERVERS (`broadcast cluster` prints one).")
        }
        return KafkaClientOptions(bootstrapServers: servers, clientId: clientId, properties: try parseKafkaProperties(properties))
    }
}

struct LoggingOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env BROADCAST_LOG_LEVEL).")
    var level: String?

    func bootstrap() {
        let name = level ?? ProcessInfo.processInfo.environment["BROADCAST_LOG_LEVEL"] ?? "info"
        let resolved = Logger.Level(rawValue: name) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = resolved
            return handler
        }
    }
}

/// Who runs an operator command, for audit trails: `$USER@host`.
func operatorName() -> String {
    "\(ProcessInfo.processInfo.environment["USER"] ?? "operator")@\(ProcessInfo.processInfo.hostName)"
}
