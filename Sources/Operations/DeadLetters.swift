import BroadcastModel
import Foundation
import Kafka
import Logging

/// A record of `broadcast.dlq` as `broadcast dlq list` shows it.
public struct DeadLetterEntry: Sendable, Equatable, Codable {
    public var partition: Int32
    public var offset: Int64
    /// The original key (the device id for message records).
    public var key: String?
    /// The `dlq.reason` header, or `unreadable` when the dead-letter headers are missing or broken.
    public var reason: String
    public var error: String?
    public var sourceTopic: String?
    public var sourcePartition: Int32?
    public var sourceOffset: Int64?
    public var worker: String?
    public var at: Date?
    public var valueBytes: Int

    public static let unreadable = "unreadable"

    init(_ message: ConsumerMessage) {
        partition = message.partition
        offset = message.offset
        key = message.keyString
        valueBytes = message.value?.count ?? 0
        let headers = message.headers.map { ($0.name, $0.value ?? []) }
        if let letter = try? DeadLetter(headers: headers) {
            reason = letter.reason.rawValue
            error = letter.error
            sourceTopic = letter.sourceTopic
            sourcePartition = letter.sourcePartition
            sourceOffset = letter.sourceOffset
            worker = letter.worker
            at = letter.at
        } else {
            reason = Self.unreadable
            error = headers.last { $0.0 == DeadLetter.Header.error }.map { String(decoding: $0.1, as: UTF8.self) }
        }
    }

    public var isReplayable: Bool { reason != Self.unreadable }
}

/// What a replay did.
public struct ReplaySummary: Sendable, Equatable, Codable {
    public var replayed = 0
    public var replayedByReason: [String: Int] = [:]
    /// Left for another replay: another reason than the one asked for.
    public var leftByFilter = 0
    /// Handled already by an earlier replay.
    public var alreadyReplayed = 0
    /// Dead letters without readable `dlq.*` headers: never replayed, listed with reason `unreadable`.
    public var unreadable = 0
    /// Not replayed because this partition's replay record is full; run the replay again without `--reason`.
    public var deferred = 0
}

/// `broadcast dlq list` and `broadcast dlq replay`.
public enum DeadLetterTools {
    public static let replayGroup = "broadcast-dlq-replay"
    /// Header added to replayed records, `topic/partition/offset` of the dead letter.
    public static let replayedFromHeader = "broadcast.replayed-from"

    /// Every dead letter up to the topic's current end, optionally of one reason.
    public static func list(
        client: KafkaClientOptions, topics: TopicNames, reason: String? = nil, timeout: Duration = .seconds(120),
        logger: Logger = Logger(label: "broadcast.dlq")
    ) async throws -> [DeadLetterEntry] {
        let stream = try await TopicStream(client: client, topic: topics.deadLetters, logger: logger)
        var entries: [DeadLetterEntry] = []
        do {
            try await stream.readToEnd(timeout: timeout) { batch in
                for message in batch {
                    let entry = DeadLetterEntry(message)
                    if reason == nil || entry.reason == reason { entries.append(entry) }
                }
            }
        } catch {
            await stream.close()
            throw error
        }
        await stream.close()
        return entries.sorted { ($0.partition, $0.offset) < ($1.partition, $1.offset) }
    }

    /// Publishes dead letters back to the messages topic with their original key, value and headers
    /// (less the `dlq.*` ones), each once: after every batch the replay group's offsets are committed
    /// with a record of what was replayed above them, so another replay does not repeat them.
    /// A crash between a batch's delivery and its commit replays that batch again (at least once).
    public static func replay(
        client: KafkaClientOptions, topics: TopicNames, producer: KafkaProducer, reason: String? = nil,
        groupId: String = replayGroup, timeout: Duration = .seconds(120), logger: Logger = Logger(label: "broadcast.dlq")
    ) async throws -> ReplaySummary {
        if let reason, reason != DeadLetterEntry.unreadable, DeadLetterReason(rawValue: reason) == nil {
            let known = DeadLetterReason.allCases.map(\.rawValue).joined(separator: ", ")
            throw OperationsError.invalidArgument("unknown dead-letter reason '\(reason)'; use one of \(known)")
        }
        let stream = try await TopicStream(client: client, topic: topics.deadLetters, groupId: groupId, logger: logger)
        // Start where the group left off, or at the oldest dead letter Kafka still keeps.
        let marks = try await stream.highWatermarks()
        var cursors: [Int32: ReplayCursor] = [:]
        for (partition, offset) in try await stream.committed() {
            let low = marks[partition]?.low ?? 0
            cursors[partition] = ReplayCursor(committed: max(offset.offset, low), metadata: offset.metadata)
        }
        var summary = ReplaySummary()
        do {
            try await stream.readToEnd(startOffsets: cursors.mapValues(\.committed), timeout: timeout) { batch in
                var outgoing: [ProducerRecord] = []
                var touched: Set<Int32> = []
                for message in batch {
                    var cursor = cursors[message.partition] ?? ReplayCursor(committed: 0, metadata: nil)
                    defer { cursors[message.partition] = cursor }
                    guard !cursor.isHandled(message.offset) else {
                        summary.alreadyReplayed += 1
                        continue
                    }
                    let entry = DeadLetterEntry(message)
                    if !entry.isReplayable {
                        // Nothing to replay it as; remember it so it does not hold the commit back.
                        summary.unreadable += 1
                        if cursor.markHandled(message.offset) { touched.insert(message.partition) }
                        continue
                    }
                    if let reason, entry.reason != reason {
                        summary.leftByFilter += 1
                        continue
                    }
                    guard cursor.markHandled(message.offset) else {
                        summary.deferred += 1
                        continue
                    }
                    touched.insert(message.partition)
                    outgoing.append(replayRecord(message, topics: topics))
                    summary.replayed += 1
                    summary.replayedByReason[entry.reason, default: 0] += 1
                }
                if !outgoing.isEmpty {
                    for result in try await producer.send(outgoing) { _ = try result.get() }
                }
                let offsets = touched.sorted().compactMap { partition in
                    cursors[partition].map {
                        TopicPartitionOffset(topic: topics.deadLetters, partition: partition, offset: $0.committed, metadata: $0.metadata)
                    }
                }
                try await stream.commit(offsets)
                if !outgoing.isEmpty { logger.info("replayed dead letters", metadata: ["count": "\(outgoing.count)"]) }
            }
        } catch {
            await stream.close()
            throw error
        }
        await stream.close()
        return summary
    }

    static func replayRecord(_ message: ConsumerMessage, topics: TopicNames) -> ProducerRecord {
        var headers = message.headers.filter { !$0.name.hasPrefix("dlq.") && $0.name != replayedFromHeader }
        headers.append(KafkaHeader(name: replayedFromHeader, string: "\(message.topic)/\(message.partition)/\(message.offset)"))
        return ProducerRecord(topic: topics.messages, key: message.keyBytes, value: message.valueBytes, headers: headers)
    }
}
