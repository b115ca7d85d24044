import ArgumentParser
import BroadcastModel
import Foundation
import Kafka
import Logging

struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Run the embedded Kafka cluster; prints its bootstrap servers on the first line, runs until SIGINT/SIGTERM."
    )

    @Option(help: "Number of brokers.") var brokers = 3
    @Option(help: "Partitions of each broadcast topic.") var partitions = 12
    @Option(name: .customLong("topic-prefix"), help: "Prefix for the broadcast.* topic names (env BROADCAST_TOPIC_PREFIX).")
    var topicPrefix: String?
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (1...32).contains(brokers) else { throw ValidationError("--brokers must be between 1 and 32, got \(brokers)") }
        guard (1...10_000).contains(partitions) else { throw ValidationError("--partitions must be between 1 and 10000, got \(partitions)") }
    }

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "broadcast.cluster")
        let cluster = try EmbeddedKafkaCluster(brokers: brokers, logger: logger)
        let topics = TopicNames(prefix: topicPrefix ?? ProcessInfo.processInfo.environment["BROADCAST_TOPIC_PREFIX"] ?? "")
        for topic in topics.all {
            try cluster.createTopic(topic, partitions: partitions, replicationFactor: min(3, brokers))
        }
        // Scripts read the first line: the bootstrap servers alone.
        FileHandle.standardOutput.write(Data((cluster.bootstrapServers + "\n").utf8))
        logger.info("embedded cluster running", metadata: [
            "brokers": "\(brokers)", "partitions": "\(partitions)", "topics": "\(topics.all)",
        ])
        let signal = await TerminationSignal.wait()
        logger.info("stopping embedded cluster", metadata: ["signal": "\(signal)"])
        cluster.shutDown()
    }
}
