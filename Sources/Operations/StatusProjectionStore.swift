import BroadcastModel
import Foundation
import GRDB

/// A status event with where it was read from.
public struct StatusRecord: Sendable, Equatable {
    public var partition: Int32
    public var offset: Int64
    public var event: StatusEvent

    public init(partition: Int32, offset: Int64, event: StatusEvent) {
        self.partition = partition
        self.offset = offset
        self.event = event
    }
}

/// The latest status of every message, as stored by the projection (one row per message).
public struct ProjectedMessage: Sendable, Equatable, Codable {
    public var messageId: String
    public var userId: String
    public var deviceId: String
    public var campaignId: String?
    public var sequenceId: String?
    public var sequenceStepId: String?
    public var recipientPhone: String
    public var status: MessageStatus
    public var reason: String?
    public var attempt: Int
    /// When the latest status happened.
    public var at: Date
    /// The earliest event seen for the message (usually `queued`).
    public var firstAt: Date
    /// The first `sent` event, kept even if a later status replaced it.
    public var sentAt: Date?
    public var providerMessageId: String?
    public var errorCode: String?
    public var errorMessage: String?
    public var worker: String?

    public var entry: StatusEntry {
        StatusEntry(
            messageId: messageId, deviceId: deviceId, campaignId: campaignId, sequenceId: sequenceId,
            sequenceStepId: sequenceStepId, status: status, at: at)
    }
}

/// The projection's SQLite store (GRDB). Events and the offsets they were read at are written in the
/// same transaction, and an event at or below a partition's stored offset is skipped: applying the
/// same records twice, or restarting from the beginning of the topic, changes nothing.
public final class StatusProjectionStore: Sendable {
    public let path: String
    private let queue: DatabaseQueue

    /// Opens (creating and migrating) the store; `path` nil keeps it in memory (tests).
    public init(path: String?) throws(OperationsError) {
        self.path = path ?? ":memory:"
        do {
            var configuration = Configuration()
            // Another process holding the file waits a little instead of failing at once.
            configuration.busyMode = .timeout(5)
            queue = try path.map { try DatabaseQueue(path: $0, configuration: configuration) } ?? DatabaseQueue(configuration: configuration)
            try Self.migrator.migrate(queue)
        } catch {
            throw .store(path: path ?? ":memory:", underlying: "\(error)")
        }
    }

    public func close() throws(OperationsError) {
        do { try queue.close() } catch { throw .store(path: path, underlying: "\(error)") }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: messages and offsets") { db in
            try db.execute(sql: """
                CREATE TABLE messages (
                    message_id TEXT PRIMARY KEY NOT NULL,
                    user_id TEXT NOT NULL,
                    device_id TEXT NOT NULL,
                    campaign_id TEXT,
                    sequence_id TEXT,
                    sequence_step_id TEXT,
                    recipient_phone TEXT NOT NULL,
                    status TEXT NOT NULL,
                    reason TEXT,
                    attempt INTEGER NOT NULL,
                    at_ms INTEGER NOT NULL,
                    first_at_ms INTEGER NOT NULL,
                    sent_at_ms INTEGER,
                    provider_message_id TEXT,
                    error_code TEXT,
                    error_message TEXT,
                    worker TEXT
                );
                CREATE INDEX messages_campaign ON messages(campaign_id);
                CREATE INDEX messages_sequence ON messages(sequence_id, sequence_step_id);
                CREATE TABLE offsets (
                    topic TEXT NOT NULL,
                    partition INTEGER NOT NULL,
                    next_offset INTEGER NOT NULL,
                    PRIMARY KEY (topic, partition)
                );
                """)
        }
        return migrator
    }

    /// The next offset to apply per partition of `topic` (everything below is in the store).
    public func storedOffsets(topic: String) async throws(OperationsError) -> [Int32: Int64] {
        try await read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT partition, next_offset FROM offsets WHERE topic = ?", arguments: [topic])
            return Dictionary(rows.map { (Int32($0["partition"] as Int), $0["next_offset"] as Int64) }, uniquingKeysWith: max)
        }
    }

    public struct ApplyResult: Sendable, Equatable {
        public var applied = 0
        /// At or below the stored offset: already in the store.
        public var skipped = 0
        /// Read but older than the message's stored status.
        public var superseded = 0
    }

    /// Applies records read from `topic` and advances its stored offsets, in one transaction.
    @discardableResult
    public func apply(_ records: [StatusRecord], topic: String) async throws(OperationsError) -> ApplyResult {
        guard !records.isEmpty else { return ApplyResult() }
        return try await write { db in
            var next = Dictionary(
                try Row.fetchAll(db, sql: "SELECT partition, next_offset FROM offsets WHERE topic = ?", arguments: [topic])
                    .map { (Int32($0["partition"] as Int), $0["next_offset"] as Int64) },
                uniquingKeysWith: max)
            var result = ApplyResult()
            for record in records {
                if let stored = next[record.partition], record.offset < stored {
                    result.skipped += 1
                    continue
                }
                if try Self.merge(record.event, db) { result.applied += 1 } else { result.superseded += 1 }
                next[record.partition] = record.offset + 1
            }
            for (partition, offset) in next {
                try db.execute(
                    sql: """
                        INSERT INTO offsets (topic, partition, next_offset) VALUES (?, ?, ?)
                        ON CONFLICT(topic, partition) DO UPDATE SET next_offset = excluded.next_offset
                        """,
                    arguments: [topic, Int(partition), offset])
            }
            return result
        }
    }

    /// Latest status wins (same rule as the board); first and sent times are kept across changes.
    private static func merge(_ event: StatusEvent, _ db: Database) throws -> Bool {
        let at = milliseconds(event.at)
        let sentAt: Int64? = event.status == .sent ? at : nil
        guard let existing = try Row.fetchOne(
            db, sql: """
                SELECT status, at_ms, first_at_ms, sent_at_ms, user_id, device_id, campaign_id, sequence_id, sequence_step_id,
                    recipient_phone FROM messages WHERE message_id = ?
                """, arguments: [event.messageId])
        else {
            try write(event, firstAt: at, sentAt: sentAt, db)
            return true
        }
        // Receipts (broadcast webhooks) know the message id, not always its owner, origin or device:
        // what the row already knows is kept, and an event that knows more fills a receipt's gaps.
        var event = event
        let known = StatusEntry(
            messageId: event.messageId, deviceId: existing["device_id"], campaignId: existing["campaign_id"],
            sequenceId: existing["sequence_id"], sequenceStepId: existing["sequence_step_id"], status: .queued, at: event.at)
        var entry = StatusEntry(event)
        entry.inheritOrigin(from: known)
        event.deviceId = entry.deviceId
        event.campaignId = entry.campaignId
        event.sequenceId = entry.sequenceId
        event.sequenceStepId = entry.sequenceStepId
        if event.userId.isEmpty { event.userId = existing["user_id"] }
        if event.recipientPhone.isEmpty { event.recipientPhone = existing["recipient_phone"] }
        try db.execute(
            sql: """
                UPDATE messages SET user_id = CASE WHEN user_id = '' THEN ? ELSE user_id END,
                    device_id = CASE WHEN campaign_id IS NULL AND sequence_id IS NULL AND (? IS NOT NULL OR ? IS NOT NULL)
                        THEN ? ELSE device_id END,
                    campaign_id = COALESCE(campaign_id, ?), sequence_id = COALESCE(sequence_id, ?),
                    sequence_step_id = COALESCE(sequence_step_id, ?),
                    recipient_phone = CASE WHEN recipient_phone = '' THEN ? ELSE recipient_phone END
                WHERE message_id = ?
                """,
            arguments: [
                event.userId, event.campaignId, event.sequenceId, event.deviceId, event.campaignId, event.sequenceId,
                event.sequenceStepId, event.recipientPhone, event.messageId,
            ])
        let firstAt = min(existing["first_at_ms"] as Int64, at)
        let storedSent: Int64? = existing["sent_at_ms"]
        let mergedSent = [storedSent, sentAt].compactMap { $0 }.min()
        let current = MessageStatus(rawValue: existing["status"] as String) ?? .queued
        let currentAt = date(existing["at_ms"] as Int64)
        guard StatusOrder.supersedes(status: event.status, at: event.at, current: current, currentAt: currentAt) else {
            try db.execute(
                sql: "UPDATE messages SET first_at_ms = ?, sent_at_ms = ? WHERE message_id = ?",
                arguments: [firstAt, mergedSent, event.messageId])
            return false
        }
        try write(event, firstAt: firstAt, sentAt: mergedSent, db)
        return true
    }

    private static func write(_ event: StatusEvent, firstAt: Int64, sentAt: Int64?, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO messages (message_id, user_id, device_id, campaign_id, sequence_id, sequence_step_id,
                    recipient_phone, status, reason, attempt, at_ms, first_at_ms, sent_at_ms, provider_message_id,
                    error_code, error_message, worker)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                event.messageId, event.userId, event.deviceId, event.campaignId, event.sequenceId, event.sequenceStepId,
                event.recipientPhone, event.status.rawValue, event.reason, event.attempt, milliseconds(event.at), firstAt, sentAt,
                event.providerMessageId, event.error?.code, event.error?.message, event.worker,
            ])
    }

    /// Every stored message, optionally of one campaign or sequence, ordered by message id.
    public func messages(campaignId: String? = nil, sequenceId: String? = nil) async throws(OperationsError) -> [ProjectedMessage] {
        try await read { db in
            var sql = "SELECT * FROM messages"
            var arguments: StatementArguments = []
            if let campaignId {
                sql += " WHERE campaign_id = ?"
                arguments += [campaignId]
            } else if let sequenceId {
                sql += " WHERE sequence_id = ?"
                arguments += [sequenceId]
            }
            sql += " ORDER BY message_id"
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.message)
        }
    }

    public func messageCount() async throws(OperationsError) -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM messages") ?? 0 }
    }

    static func message(_ row: Row) -> ProjectedMessage {
        ProjectedMessage(
            messageId: row["message_id"], userId: row["user_id"], deviceId: row["device_id"],
            campaignId: row["campaign_id"], sequenceId: row["sequence_id"], sequenceStepId: row["sequence_step_id"],
            recipientPhone: row["recipient_phone"],
            status: MessageStatus(rawValue: row["status"] as String) ?? .queued, reason: row["reason"],
            attempt: row["attempt"], at: date(row["at_ms"]), firstAt: date(row["first_at_ms"]),
            sentAt: (row["sent_at_ms"] as Int64?).map(date), providerMessageId: row["provider_message_id"],
            errorCode: row["error_code"], errorMessage: row["error_message"], worker: row["worker"])
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    /// Internal (not private) so the console's read queries in other files of this module share it.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(OperationsError) -> T {
        do { return try await queue.read(body) } catch { throw .store(path: path, underlying: "\(error)") }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(OperationsError) -> T {
        do { return try await queue.write(body) } catch { throw .store(path: path, underlying: "\(error)") }
    }
}
