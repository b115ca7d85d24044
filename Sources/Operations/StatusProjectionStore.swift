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

extension ProjectedMessage {
    init(_ event: StatusEvent, at: Date, firstAt: Date, sentAt: Date?) {
        self.init(
            messageId: event.messageId, userId: event.userId, deviceId: event.deviceId, campaignId: event.campaignId,
            sequenceId: event.sequenceId, sequenceStepId: event.sequenceStepId, recipientPhone: event.recipientPhone,
            status: event.status, reason: event.reason, attempt: event.attempt, at: at, firstAt: firstAt, sentAt: sentAt,
            providerMessageId: event.providerMessageId, errorCode: event.error?.code, errorMessage: event.error?.message,
            worker: event.worker)
    }
}

/// The projection's SQLite store (GRDB). Events and the offsets they were read at are written in the
/// same transaction, and an event at or below a partition's stored offset is skipped: applying the
/// same records twice, or restarting from the beginning of the topic, changes nothing.
public final class StatusProjectionStore: Sendable {
    public let path: String
    /// A WAL pool for a file (readers such as the console's pages run beside the follower's
    /// writes instead of queueing behind them), a queue in memory.
    private let queue: any DatabaseWriter

    /// Opens (creating and migrating) the store; `path` nil keeps it in memory (tests).
    public init(path: String?) throws(OperationsError) {
        self.path = path ?? ":memory:"
        do {
            var configuration = Configuration()
            // Another process holding the file waits a little instead of failing at once.
            configuration.busyMode = .timeout(5)
            if let path {
                // In WAL mode NORMAL still never corrupts the file; a power cut may lose the last
                // transactions, which the follower reads again from Kafka (offsets are in the same ones).
                configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
                queue = try DatabasePool(path: path, configuration: configuration)
            } else {
                queue = try DatabaseQueue(configuration: configuration)
            }
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
    ///
    /// A batch usually holds several events of one message (queued, processing, sent): they are
    /// folded in memory first, so each message costs one read and one write per batch.
    @discardableResult
    public func apply(_ records: [StatusRecord], topic: String) async throws(OperationsError) -> ApplyResult {
        guard !records.isEmpty else { return ApplyResult() }
        return try await write { db in
            var next = Dictionary(
                try Row.fetchAll(db, sql: "SELECT partition, next_offset FROM offsets WHERE topic = ?", arguments: [topic])
                    .map { (Int32($0["partition"] as Int), $0["next_offset"] as Int64) },
                uniquingKeysWith: max)
            let select = try db.cachedStatement(sql: "SELECT * FROM messages WHERE message_id = ?")
            var rows: [String: ProjectedMessage] = [:]
            var touched: [String] = []
            var result = ApplyResult()
            for record in records {
                if let stored = next[record.partition], record.offset < stored {
                    result.skipped += 1
                    continue
                }
                let id = record.event.messageId
                let current: ProjectedMessage?
                if let folded = rows[id] {
                    current = folded
                } else {
                    current = try Row.fetchOne(select, arguments: [id]).map(Self.message)
                    touched.append(id)
                }
                let (row, applied) = Self.merged(current, with: record.event)
                rows[id] = row
                if applied { result.applied += 1 } else { result.superseded += 1 }
                next[record.partition] = record.offset + 1
            }
            let insert = try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO messages (message_id, user_id, device_id, campaign_id, sequence_id, sequence_step_id,
                        recipient_phone, status, reason, attempt, at_ms, first_at_ms, sent_at_ms, provider_message_id,
                        error_code, error_message, worker)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for id in touched {
                guard let row = rows[id] else { continue }
                try insert.execute(arguments: [
                    row.messageId, row.userId, row.deviceId, row.campaignId, row.sequenceId, row.sequenceStepId,
                    row.recipientPhone, row.status.rawValue, row.reason, row.attempt, Self.milliseconds(row.at), Self.milliseconds(row.firstAt),
                    row.sentAt.map(Self.milliseconds), row.providerMessageId, row.errorCode, row.errorMessage, row.worker,
                ])
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

    /// One event folded into a message's stored row: the latest status wins (same rule as the
    /// board); first and sent times are kept across changes. `applied` is false when the event is
    /// older than the row's status (it may still fill the row's gaps and times).
    static func merged(_ stored: ProjectedMessage?, with event: StatusEvent) -> (row: ProjectedMessage, applied: Bool) {
        // Times are kept in whole milliseconds, as the table stores them.
        let at = date(milliseconds(event.at))
        let sentAt: Date? = event.status == .sent ? at : nil
        guard var row = stored else {
            return (ProjectedMessage(event, at: at, firstAt: at, sentAt: sentAt), true)
        }
        // Receipts (broadcast webhooks) know the message id, not always its owner, origin or device:
        // what the row already knows is kept, and an event that knows more fills a receipt's gaps.
        var event = event
        let known = StatusEntry(
            messageId: event.messageId, deviceId: row.deviceId, campaignId: row.campaignId,
            sequenceId: row.sequenceId, sequenceStepId: row.sequenceStepId, status: .queued, at: event.at)
        var entry = StatusEntry(event)
        entry.inheritOrigin(from: known)
        event.deviceId = entry.deviceId
        event.campaignId = entry.campaignId
        event.sequenceId = entry.sequenceId
        event.sequenceStepId = entry.sequenceStepId
        if event.userId.isEmpty { event.userId = row.userId }
        if event.recipientPhone.isEmpty { event.recipientPhone = row.recipientPhone }
        if row.userId.isEmpty { row.userId = event.userId }
        if row.campaignId == nil, row.sequenceId == nil, event.campaignId != nil || event.sequenceId != nil { row.deviceId = event.deviceId }
        row.campaignId = row.campaignId ?? event.campaignId
        row.sequenceId = row.sequenceId ?? event.sequenceId
        row.sequenceStepId = row.sequenceStepId ?? event.sequenceStepId
        if row.recipientPhone.isEmpty { row.recipientPhone = event.recipientPhone }
        let firstAt = min(row.firstAt, at)
        let mergedSent = [row.sentAt, sentAt].compactMap { $0 }.min()
        guard StatusOrder.supersedes(status: event.status, at: event.at, current: row.status, currentAt: row.at) else {
            row.firstAt = firstAt
            row.sentAt = mergedSent
            return (row, false)
        }
        return (ProjectedMessage(event, at: at, firstAt: firstAt, sentAt: mergedSent), true)
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
