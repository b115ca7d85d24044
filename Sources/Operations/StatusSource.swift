import BroadcastModel
import Foundation
import Kafka
import Logging

extension StatusRecord {
    /// Decodes the status events of a batch; records that are not status events are logged and skipped.
    public static func decode(_ batch: ConsumerBatch, logger: Logger) -> [StatusRecord] {
        var records: [StatusRecord] = []
        records.reserveCapacity(batch.count)
        var undecodable = 0
        for message in batch {
            guard let value = message.value, let event = try? StatusEvent.decode(from: value) else {
                undecodable += 1
                continue
            }
            records.append(StatusRecord(partition: message.partition, offset: message.offset, event: event))
        }
        if undecodable > 0 {
            logger.warning("skipped records that are not status events", metadata: ["count": "\(undecodable)"])
        }
        return records
    }
}

/// Reads `broadcast.status` into a board: the library side of `broadcast status`.
public enum StatusBoardLoader {
    /// Reads the status topic from the beginning to its end as of now and returns the board's
    /// snapshot: what `broadcast status --json` prints. Never commits offsets.
    public static func snapshot(
        client: KafkaClientOptions, topics: TopicNames, filter: StatusBoard.Filter = StatusBoard.Filter(),
        timeout: Duration = .seconds(120), logger: Logger = Logger(label: "broadcast.status")
    ) async throws -> StatusSnapshot {
        let stream = try await TopicStream(client: client, topic: topics.status, logger: logger)
        var board = StatusBoard(filter: filter)
        do {
            try await catchUp(stream, board: &board, logger: logger, timeout: timeout)
        } catch {
            await stream.close()
            throw error
        }
        await stream.close()
        return board.snapshot(now: Date())
    }

    /// Applies the topic up to its current end to `board`.
    public static func catchUp(
        _ stream: TopicStream, board: inout StatusBoard, logger: Logger, timeout: Duration = .seconds(120)
    ) async throws {
        try await stream.readToEnd(timeout: timeout) { batch in
            for record in StatusRecord.decode(batch, logger: logger) { board.apply(record.event) }
        }
    }
}

/// Keeps the SQLite projection up to date from the status topic. Each batch's events and offsets are
/// stored in one transaction; restarting re-reads the topic and skips what the store already has.
public struct StatusProjector: Sendable {
    public let store: StatusProjectionStore
    public let stream: TopicStream
    public let logger: Logger

    public init(store: StatusProjectionStore, stream: TopicStream, logger: Logger = Logger(label: "broadcast.projection")) {
        self.store = store
        self.stream = stream
        self.logger = logger
    }

    /// Stores everything up to the topic's current end. `onRecords` sees every decoded record
    /// (including ones the store skipped: the board's rule makes them harmless).
    public func catchUp(timeout: Duration = .seconds(120), onRecords: ([StatusRecord]) -> Void = { _ in }) async throws {
        let stored = try await store.storedOffsets(topic: stream.topic)
        try await stream.readToEnd(startOffsets: stored, timeout: timeout) { batch in
            try await apply(batch, onRecords: onRecords)
        }
    }

    /// Stores events as they come until the task is cancelled.
    public func follow(onRecords: ([StatusRecord]) -> Void = { _ in }) async throws {
        try await stream.follow { batch in try await apply(batch, onRecords: onRecords) }
    }

    private func apply(_ batch: ConsumerBatch, onRecords: ([StatusRecord]) -> Void) async throws {
        // Undecodable records are not stored; the next stored offset passes them (and a trailing
        // one is only read and skipped again after a restart).
        let records = StatusRecord.decode(batch, logger: logger)
        try await store.apply(records, topic: stream.topic)
        onRecords(records)
    }
}
