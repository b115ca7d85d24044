import ArgumentParser
import BroadcastModel
import Foundation
import Kafka
import Logging
import Operations

struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Inspect and replay the dead-letter topic.",
        subcommands: [List.self, Replay.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show dead letters: reason, error, source partition/offset, key.")
        @Option(help: "Only this reason (\(DeadLetterReason.allCases.map(\.rawValue).joined(separator: ", ")), unreadable).") var reason: String?
        @Flag(help: "One JSON array instead of a table.") var json = false
        @OptionGroup var kafka: KafkaOptions
        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            logging.bootstrap()
            let entries = try await DeadLetterTools.list(
                client: try kafka.clientOptions(clientId: "broadcast-dlq"), topics: kafka.topics, reason: reason,
                logger: Logger(label: "broadcast.dlq"))
            if json {
                FileHandle.standardOutput.write(try JSONEncoder.sortedWithTimestamps(pretty: true).encode(entries))
                print()
                return
            }
            print("dlq      reason              source                          key                   error")
            for entry in entries {
                let source = entry.sourceTopic.map { "\($0)[\(entry.sourcePartition ?? -1)]@\(entry.sourceOffset ?? -1)" } ?? "-"
                print([
                    "\(entry.partition)@\(entry.offset)".padded(8), entry.reason.padded(19), source.padded(31),
                    (entry.key ?? "-").padded(21), entry.error ?? "",
                ].joined(separator: " "))
            }
            print("\(entries.count) dead letter(s)")
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish dead letters back to the messages topic with their original key and value, once each.",
            discussion: """
                Progress is committed for the consumer group \(DeadLetterTools.replayGroup) after each batch, with \
                the offsets replayed above the committed one in the commit metadata, so running replay again (with \
                or without --reason) never repeats a dead letter. Records without readable dlq.* headers are never \
                replayed. A crash between publishing a batch and committing it replays that batch again.
                """
        )
        @Option(help: "Only this reason.") var reason: String?
        @Option(help: "Consumer group that records what was replayed.") var group = DeadLetterTools.replayGroup
        @OptionGroup var kafka: KafkaOptions
        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            logging.bootstrap()
            let logger = Logger(label: "broadcast.dlq")
            let client = try kafka.clientOptions(clientId: "broadcast-dlq-replay")
            let producer = try KafkaProducer(configuration: ProducerConfiguration(client: client), logger: logger)
            let summary: ReplaySummary
            do {
                summary = try await DeadLetterTools.replay(
                    client: client, topics: kafka.topics, producer: producer, reason: reason, groupId: group, logger: logger)
            } catch {
                await producer.close()
                throw error
            }
            await producer.close()
            let byReason = summary.replayedByReason.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            print("replayed \(summary.replayed) \(byReason.isEmpty ? "" : "(\(byReason)) ")to \(kafka.topics.messages)")
            if summary.alreadyReplayed > 0 { print("\(summary.alreadyReplayed) already replayed before") }
            if summary.leftByFilter > 0 { print("\(summary.leftByFilter) of other reasons left in place") }
            if summary.unreadable > 0 { print("\(summary.unreadable) without readable dlq.* headers: not replayable (see `broadcast dlq list`)") }
            if summary.deferred > 0 { print("\(summary.deferred) deferred: the replay record is full; run `broadcast dlq replay` without --reason") }
        }
    }
}

extension String {
    fileprivate func padded(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
