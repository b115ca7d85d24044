import BroadcastModel
import Foundation
import GRDB
import Kafka

/// A dead letter as the projection keeps it: the `dlq.*` headers, the owner fields read from the
/// original record when it still decodes (for scoping and display), and the original key and value
/// so a single letter can be replayed from the console.
public struct ProjectedDeadLetter: Sendable, Equatable, Codable {
    public var partition: Int32
    public var offset: Int64
    public var key: String?
    public var reason: String
    public var error: String?
    public var sourceTopic: String?
    public var sourcePartition: Int32?
    public var sourceOffset: Int64?
    public var worker: String?
    public var at: Date?
    public var messageId: String?
    public var userId: String?
    public var campaignId: String?
    public var sequenceId: String?
    public var deviceId: String?
    public var recipientPhone: String?
    public var valueBytes: Int
    /// Set once the console replayed this letter (the CLI's `dlq replay` keeps its own record).
    public var replayedAt: Date?
    public var replayedBy: String?

    public var isReplayable: Bool { reason != DeadLetterEntry.unreadable }
}

/// A dead letter read from the topic, ready for the store.
public struct DeadLetterRecord: Sendable {
    public var letter: ProjectedDeadLetter
    public var value: [UInt8]?

    public init(_ message: ConsumerMessage) {
        let entry = DeadLetterEntry(message)
        let value = message.valueBytes
        // Dead letters are often records that do not decode; then only the headers are known.
        let original = value.flatMap { try? BroadcastMessage.decode(from: $0) }
        letter = ProjectedDeadLetter(
            partition: entry.partition, offset: entry.offset, key: entry.key, reason: entry.reason, error: entry.error,
            sourceTopic: entry.sourceTopic, sourcePartition: entry.sourcePartition, sourceOffset: entry.sourceOffset,
            worker: entry.worker, at: entry.at, messageId: original?.id, userId: original?.userId,
            campaignId: original?.campaignId, sequenceId: original?.sequenceId, deviceId: original?.deviceId ?? entry.key,
            recipientPhone: original?.recipient.phone, valueBytes: entry.valueBytes, replayedAt: nil, replayedBy: nil)
        self.value = value
    }
}

/// The latest campaign control record per campaign, as the projection keeps it.
public struct ProjectedControl: Sendable, Equatable, Codable {
    public var campaignId: String
    public var action: CampaignAction
    public var at: Date
    public var by: String
}

/// The dead-letter and campaign-control tables of the projection, next to its `messages` table.
/// Created on first use with `IF NOT EXISTS` (not through the store's migrator) so this file adds
/// to the store without touching its migrations. Offsets go into the same `offsets` table, per topic.
extension StatusProjectionStore {
    static let sideTablesSQL = """
        CREATE TABLE IF NOT EXISTS dead_letters (
            partition INTEGER NOT NULL,
            offset INTEGER NOT NULL,
            key TEXT,
            reason TEXT NOT NULL,
            error TEXT,
            source_topic TEXT,
            source_partition INTEGER,
            source_offset INTEGER,
            worker TEXT,
            at_ms INTEGER,
            message_id TEXT,
            user_id TEXT,
            campaign_id TEXT,
            sequence_id TEXT,
            device_id TEXT,
            recipient_phone TEXT,
            value BLOB,
            value_bytes INTEGER NOT NULL,
            replayed_at_ms INTEGER,
            replayed_by TEXT,
            PRIMARY KEY (partition, offset)
        );
        CREATE TABLE IF NOT EXISTS campaign_controls (
            campaign_id TEXT PRIMARY KEY NOT NULL,
            action TEXT NOT NULL,
            at_ms INTEGER NOT NULL,
            by_whom TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS device_states (
            device_id TEXT PRIMARY KEY NOT NULL,
            record BLOB,
            unreadable TEXT
        );
        CREATE TABLE IF NOT EXISTS inbound_messages (
            id TEXT PRIMARY KEY NOT NULL,
            device_id TEXT NOT NULL,
            phone TEXT NOT NULL,
            type TEXT NOT NULL,
            at_ms INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS inbound_device ON inbound_messages(device_id);
        CREATE INDEX IF NOT EXISTS messages_campaign_status ON messages(campaign_id, status);
        CREATE INDEX IF NOT EXISTS messages_device ON messages(device_id);
        """

    /// Creates the console's tables and indexes when missing; safe to call any number of times.
    public func prepareConsoleTables() async throws(OperationsError) {
        try await write { db in try db.execute(sql: Self.sideTablesSQL) }
    }

    /// In one transaction: `store` for each item not yet in the store (at or above its partition's
    /// stored offset), then the topic's offsets moved past them. Replaying records changes nothing.
    func applyInOrder<Item: Sendable>(
        _ items: [Item], topic: String, at position: @escaping @Sendable (Item) -> (partition: Int32, offset: Int64),
        _ store: @escaping @Sendable (Database, Item) throws -> Void
    ) async throws(OperationsError) {
        guard !items.isEmpty else { return }
        try await write { db in
            try db.execute(sql: Self.sideTablesSQL)
            var next = try Self.nextOffsets(topic: topic, db)
            for item in items {
                let (partition, offset) = position(item)
                if let stored = next[partition], offset < stored { continue }
                try store(db, item)
                next[partition] = offset + 1
            }
            try Self.storeOffsets(next, topic: topic, db)
        }
    }

    /// Stores dead letters read from `topic` and advances its offsets, in one transaction.
    public func applyDeadLetters(_ records: [DeadLetterRecord], topic: String) async throws(OperationsError) {
        try await applyInOrder(records, topic: topic, at: { ($0.letter.partition, $0.letter.offset) }) { db, record in
            let l = record.letter
            // OR IGNORE: a letter already stored keeps its replay mark.
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO dead_letters (partition, offset, key, reason, error, source_topic, source_partition,
                        source_offset, worker, at_ms, message_id, user_id, campaign_id, sequence_id, device_id, recipient_phone,
                        value, value_bytes)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    Int(l.partition), l.offset, l.key, l.reason, l.error, l.sourceTopic, l.sourcePartition.map { Int($0) },
                    l.sourceOffset, l.worker, l.at.map(Self.milliseconds), l.messageId, l.userId, l.campaignId, l.sequenceId,
                    l.deviceId, l.recipientPhone, record.value.map { Data($0) }, l.valueBytes,
                ])
        }
    }

    /// Stores the latest control record per campaign (a nil record is a tombstone) and advances
    /// the topic's offsets. Records arrive in log order, which is the order operators acted in.
    public func applyControls(_ records: [(partition: Int32, offset: Int64, campaignId: String, record: CampaignControlRecord?)], topic: String)
        async throws(OperationsError)
    {
        try await applyInOrder(records.map(ControlItem.init), topic: topic, at: { ($0.partition, $0.offset) }) { db, item in
            if let record = item.record {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO campaign_controls (campaign_id, action, at_ms, by_whom) VALUES (?, ?, ?, ?)",
                    arguments: [item.campaignId, record.action.rawValue, Self.milliseconds(record.at), record.by])
            } else {
                try db.execute(sql: "DELETE FROM campaign_controls WHERE campaign_id = ?", arguments: [item.campaignId])
            }
        }
    }

    /// Merges `broadcast.devices` records into each device's stored state (the way workers merge
    /// them) and advances the topic's offsets. A value that cannot be read marks the device
    /// unreadable until a readable one arrives; a tombstone forgets the device. Recipient claims
    /// are passed over.
    public func applyDeviceStates(_ items: [DeviceStateItem], topic: String) async throws(OperationsError) {
        try await applyInOrder(items, topic: topic, at: { ($0.partition, $0.offset) }) { db, item in
            // Business budgets' claims share the topic; they are no device's state.
            if RecipientClaim.isClaimKey(item.deviceId) { return }
            guard let value = item.value else {
                try db.execute(sql: "DELETE FROM device_states WHERE device_id = ?", arguments: [item.deviceId])
                return
            }
            let record: DeviceStateRecord
            do {
                record = try DeviceStateRecord.decodeValidated(key: item.deviceId, value: value)
            } catch {
                try db.execute(
                    sql: "INSERT INTO device_states (device_id, unreadable) VALUES (?, ?) ON CONFLICT(device_id) DO UPDATE SET unreadable = excluded.unreadable",
                    arguments: [item.deviceId, "\(error)"])
                return
            }
            let stored = try Data.fetchOne(db, sql: "SELECT record FROM device_states WHERE device_id = ?", arguments: [item.deviceId])
            let merged = stored.flatMap { try? DeviceStateRecord.decode(from: [UInt8]($0)) }.map { $0.merged(with: record) } ?? record
            try db.execute(
                sql: "INSERT OR REPLACE INTO device_states (device_id, record, unreadable) VALUES (?, ?, NULL)",
                arguments: [item.deviceId, Data(merged.encoded())])
        }
    }

    /// Stores what contacts wrote (id, device, phone, type and time; not the text) and advances the
    /// topic's offsets; a redelivered webhook's record (same id) is stored once.
    public func applyInbound(_ items: [(partition: Int32, offset: Int64, message: InboundMessage?)], topic: String) async throws(OperationsError) {
        try await applyInOrder(items.map(InboundItem.init), topic: topic, at: { ($0.partition, $0.offset) }) { db, item in
            guard let message = item.message else { return }
            try db.execute(
                sql: "INSERT OR IGNORE INTO inbound_messages (id, device_id, phone, type, at_ms) VALUES (?, ?, ?, ?, ?)",
                arguments: [message.id, message.deviceId, message.phone, message.type, Self.milliseconds(message.at)])
        }
    }

    /// Messages contacts wrote, per device.
    static func inboundCounts(_ db: Database) throws -> [String: Int] {
        guard try db.tableExists("inbound_messages") else { return [:] }
        return Dictionary(
            try Row.fetchAll(db, sql: "SELECT device_id, COUNT(*) AS n FROM inbound_messages GROUP BY device_id").map { ($0["device_id"] as String, $0["n"] as Int) },
            uniquingKeysWith: +)
    }

    /// Every device's stored state, and the devices whose latest record could not be read.
    public func deviceStates() async throws(OperationsError) -> (states: [String: DeviceStateRecord], unreadable: [String: String]) {
        try await read { db in try Self.deviceStates(db) }
    }

    static func deviceStates(_ db: Database) throws -> (states: [String: DeviceStateRecord], unreadable: [String: String]) {
        guard try db.tableExists("device_states") else { return ([:], [:]) }
        var states: [String: DeviceStateRecord] = [:]
        var unreadable: [String: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT device_id, record, unreadable FROM device_states") {
            let device: String = row["device_id"]
            if let reason: String = row["unreadable"] { unreadable[device] = reason }
            if let data: Data = row["record"], let record = try? DeviceStateRecord.decode(from: [UInt8](data)) { states[device] = record }
        }
        return (states, unreadable)
    }

    /// Marks a letter as replayed by the console; false when it was replayed already.
    public func markReplayed(partition: Int32, offset: Int64, by: String, at: Date) async throws(OperationsError) -> Bool {
        try await write { db in
            try db.execute(
                sql: "UPDATE dead_letters SET replayed_at_ms = ?, replayed_by = ? WHERE partition = ? AND offset = ? AND replayed_at_ms IS NULL",
                arguments: [Self.milliseconds(at), by, Int(partition), offset])
            return db.changesCount == 1
        }
    }

    /// Clears a replay mark (the replayed record could not be published).
    public func unmarkReplayed(partition: Int32, offset: Int64) async throws(OperationsError) {
        try await write { db in
            try db.execute(
                sql: "UPDATE dead_letters SET replayed_at_ms = NULL, replayed_by = NULL WHERE partition = ? AND offset = ?",
                arguments: [Int(partition), offset])
        }
    }

    static func nextOffsets(topic: String, _ db: Database) throws -> [Int32: Int64] {
        Dictionary(
            try Row.fetchAll(db, sql: "SELECT partition, next_offset FROM offsets WHERE topic = ?", arguments: [topic])
                .map { (Int32($0["partition"] as Int), $0["next_offset"] as Int64) },
            uniquingKeysWith: max)
    }

    static func storeOffsets(_ next: [Int32: Int64], topic: String, _ db: Database) throws {
        for (partition, offset) in next {
            try db.execute(
                sql: """
                    INSERT INTO offsets (topic, partition, next_offset) VALUES (?, ?, ?)
                    ON CONFLICT(topic, partition) DO UPDATE SET next_offset = excluded.next_offset
                    """,
                arguments: [topic, Int(partition), offset])
        }
    }
}

/// One `broadcast.devices` record as the projection takes it in (`value` nil: a tombstone).
public struct DeviceStateItem: Sendable {
    public var partition: Int32
    public var offset: Int64
    public var deviceId: String
    public var value: [UInt8]?

    public init(partition: Int32, offset: Int64, deviceId: String, value: [UInt8]?) {
        self.partition = partition
        self.offset = offset
        self.deviceId = deviceId
        self.value = value
    }
}

private struct ControlItem: Sendable {
    var partition: Int32, offset: Int64, campaignId: String, record: CampaignControlRecord?
    init(_ t: (partition: Int32, offset: Int64, campaignId: String, record: CampaignControlRecord?)) {
        (partition, offset, campaignId, record) = t
    }
}

private struct InboundItem: Sendable {
    var partition: Int32, offset: Int64, message: InboundMessage?
    init(_ t: (partition: Int32, offset: Int64, message: InboundMessage?)) {
        (partition, offset, message) = t
    }
}
