import BroadcastModel
import Foundation
import GRDB

/// A campaign or sequence with its counts and rates: one row of the console's campaigns list.
public struct ScopeSummary: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case campaign, sequence

        /// The `messages` column holding this kind's id (a constant, never user input).
        var column: String { self == .campaign ? "campaign_id" : "sequence_id" }
    }

    public var kind: Kind
    public var id: String
    /// The owner (the smallest user id if, against the contract, several users share the id).
    public var userId: String
    public var counts: StatusCounts
    public var firstAt: Date
    public var lastAt: Date
    /// Messages that reached a final status per second over the last `rateWindow` seconds.
    public var finishedPerSecond: Double
    /// Messages sent in the last minute.
    public var sentLastMinute: Int
    public var etaSeconds: Double?
    /// The latest pause, resume or cancel an operator gave (campaigns only).
    public var control: ProjectedControl?
}

/// Counts of one device or step within a scope.
public struct KeyedCounts: Sendable, Equatable, Codable {
    public var key: String
    public var counts: StatusCounts
}

/// Sends over time: how many messages were first sent in each bucket.
public struct SendSeries: Sendable, Equatable, Codable {
    public struct Point: Sendable, Equatable, Codable {
        public var at: Date
        public var sent: Int
    }

    public var bucketSeconds: Int
    public var points: [Point]
}

/// One campaign or sequence in detail: the console's campaign page.
public struct ScopeDetail: Sendable, Equatable, Codable {
    public var summary: ScopeSummary
    public var devices: [KeyedCounts]
    public var steps: [KeyedCounts]
    public var sends: SendSeries
}

/// A device as the status events and its `broadcast.devices` state show it. `state` is `retired` or
/// `paused` when an operator said so, `paused` too while the device cools off after a ban-like error
/// or when the latest `retrying` or `skipped` event with reason `device_paused` has no send after it.
/// Caps and quiet hours are holds the worker does not report as statuses; the hour's sends show them.
public struct DeviceSummary: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable {
        /// Paused by an operator, or by the worker after ban-like or quality errors.
        case paused
        /// Retired by an operator: its messages are skipped.
        case retired
        /// Has messages queued, processing or retrying.
        case sending
        case idle
    }

    public var deviceId: String
    public var counts: StatusCounts
    public var lastAt: Date
    public var lastSentAt: Date?
    public var lastStatus: MessageStatus
    public var lastReason: String?
    public var lastErrorCode: String?
    public var state: State
    /// The reason and time of the hold behind `paused`.
    public var stateReason: String?
    public var stateAt: Date?
    /// From `broadcast.devices` (nil when the device has no record there): the operator's decision,
    /// sends in the last hour on any worker, and the end of a cool-off after ban-like errors.
    public var operatorStatus: String?
    public var sendsInLastHour: Int?
    public var coolingOffUntil: Date?
    /// Why the device's latest state record could not be read (it sends nothing meanwhile).
    public var stateUnreadable: String?
    /// Messages contacts wrote to the device (`broadcast.inbound`): replies, STOPs and others.
    public var inboundMessages: Int = 0
}

/// Read queries for the console, all optionally limited to one user's messages.
extension StatusProjectionStore {
    /// How far back rates look.
    public static let rateWindow: TimeInterval = 300
    /// A hold older than this no longer colours a device's state.
    public static let holdFreshness: TimeInterval = 900

    static var finalStatusList: String {
        MessageStatus.allCases.filter(\.isFinal).map { "'\($0.rawValue)'" }.joined(separator: ",")
    }

    /// Every campaign (or sequence) with counts and rates, newest activity first.
    public func scopeSummaries(kind: ScopeSummary.Kind, userId: String? = nil, now: Date = Date()) async throws(OperationsError) -> [ScopeSummary] {
        try await read { db in
            try Self.summaries(db, kind: kind, id: nil, userId: userId, now: now)
        }
    }

    /// One campaign (or sequence) with its devices, steps and sends over time; nil when it has no
    /// messages (or none of `userId`'s).
    public func scopeDetail(kind: ScopeSummary.Kind, id: String, userId: String? = nil, now: Date = Date()) async throws(OperationsError)
        -> ScopeDetail?
    {
        try await read { db in
            guard let summary = try Self.summaries(db, kind: kind, id: id, userId: userId, now: now).first else { return nil }
            let column = kind.column
            var filter = "\(column) = ?"
            var arguments: StatementArguments = [id]
            if let userId {
                filter += " AND user_id = ?"
                arguments += [userId]
            }
            func grouped(_ key: String) throws -> [KeyedCounts] {
                var counts: [String: StatusCounts] = [:]
                for row in try Row.fetchAll(
                    db, sql: "SELECT \(key) AS k, status, COUNT(*) AS n FROM messages WHERE \(filter) GROUP BY \(key), status",
                    arguments: arguments)
                {
                    let key = (row["k"] as String?) ?? "-"
                    guard let status = MessageStatus(rawValue: row["status"]) else { continue }
                    counts[key, default: StatusCounts()][status] += row["n"] as Int
                }
                return counts.sorted { $0.key < $1.key }.map { KeyedCounts(key: $0.key, counts: $0.value) }
            }
            let devices = try grouped("device_id")
            let steps = try grouped("sequence_step_id")

            var sends = SendSeries(bucketSeconds: 1, points: [])
            if let range = try Row.fetchOne(
                db, sql: "SELECT MIN(sent_at_ms) AS lo, MAX(sent_at_ms) AS hi FROM messages WHERE \(filter) AND sent_at_ms IS NOT NULL",
                arguments: arguments), let lo = range["lo"] as Int64?, let hi = range["hi"] as Int64?
            {
                let bucket = Self.bucketSeconds(spanMilliseconds: hi - lo)
                let bucketMs = Int64(bucket) * 1000
                let start = lo / bucketMs * bucketMs
                var byBucket: [Int64: Int] = [:]
                for row in try Row.fetchAll(
                    db,
                    sql: "SELECT (sent_at_ms - ?) / ? AS b, COUNT(*) AS n FROM messages WHERE \(filter) AND sent_at_ms IS NOT NULL GROUP BY b",
                    arguments: [start, bucketMs] + arguments)
                {
                    byBucket[row["b"]] = row["n"]
                }
                let last = (hi - start) / bucketMs
                sends = SendSeries(
                    bucketSeconds: bucket,
                    points: (0...last).map { SendSeries.Point(at: Self.date(start + $0 * bucketMs), sent: byBucket[$0] ?? 0) })
            }
            return ScopeDetail(summary: summary, devices: devices, steps: steps, sends: sends)
        }
    }

    /// Every device with counts and its derived state.
    public func deviceSummaries(userId: String? = nil, now: Date = Date()) async throws(OperationsError) -> [DeviceSummary] {
        try await read { db in
            let filter = userId == nil ? "" : "WHERE user_id = ?"
            let holdFilter = userId == nil ? "" : "AND user_id = ?"
            let arguments: StatementArguments = userId.map { [$0] } ?? []
            var counts: [String: StatusCounts] = [:]
            var lastSent: [String: Int64] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT device_id, status, COUNT(*) AS n, MAX(sent_at_ms) AS s FROM messages \(filter) GROUP BY device_id, status",
                arguments: arguments)
            {
                let device: String = row["device_id"]
                if let status = MessageStatus(rawValue: row["status"]) { counts[device, default: StatusCounts()][status] += row["n"] as Int }
                if let sent = row["s"] as Int64? { lastSent[device] = max(lastSent[device] ?? sent, sent) }
            }
            // SQLite fills the bare columns from the row holding MAX(at_ms): the device's latest message.
            var latest: [String: Row] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT device_id, MAX(at_ms) AS at_ms, status, reason, error_code FROM messages \(filter) GROUP BY device_id",
                arguments: arguments)
            {
                latest[row["device_id"]] = row
            }
            var holds: [String: (reason: String, at: Int64)] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT device_id, reason, MAX(at_ms) AS at_ms FROM messages
                    WHERE status IN ('skipped', 'retrying') AND reason = '\(StatusEvent.Reason.devicePaused)'
                    \(holdFilter) GROUP BY device_id
                    """,
                arguments: arguments)
            {
                holds[row["device_id"]] = (row["reason"], row["at_ms"])
            }
            let fresh = Self.milliseconds(now.addingTimeInterval(-Self.holdFreshness))
            let (safety, unreadable) = try Self.deviceStates(db)
            let inbound = try Self.inboundCounts(db)
            return counts.keys.sorted().compactMap { device in
                guard let row = latest[device], let deviceCounts = counts[device] else { return nil }
                var state: DeviceSummary.State = deviceCounts.pending > 0 ? .sending : .idle
                var stateReason: String?
                var stateAt: Date?
                if let hold = holds[device], hold.at >= fresh, (lastSent[device] ?? 0) <= hold.at {
                    state = .paused
                    stateReason = hold.reason
                    stateAt = Self.date(hold.at)
                }
                let record = safety[device]
                let coolingOff = record?.pause.flatMap { $0.until > now ? $0 : nil }
                if let coolingOff {
                    state = .paused
                    stateReason = coolingOff.reason
                    stateAt = coolingOff.lastBanLikeAt
                }
                if let decision = record?.operatorDecision, decision.status != .active {
                    state = decision.status == .retired ? .retired : .paused
                    stateReason = "operator \(decision.status.rawValue) by \(decision.by)"
                    stateAt = decision.at
                }
                return DeviceSummary(
                    deviceId: device, counts: deviceCounts, lastAt: Self.date(row["at_ms"]), lastSentAt: lastSent[device].map(Self.date),
                    lastStatus: MessageStatus(rawValue: row["status"]) ?? .queued, lastReason: row["reason"],
                    lastErrorCode: row["error_code"], state: state, stateReason: stateReason, stateAt: stateAt,
                    operatorStatus: record?.operatorStatus.rawValue, sendsInLastHour: record?.sendsInLastHour(at: now),
                    coolingOffUntil: coolingOff?.until, stateUnreadable: unreadable[device], inboundMessages: inbound[device] ?? 0)
            }
        }
    }

    /// Dead letters, newest first, optionally of one user or reason.
    public func deadLetters(userId: String? = nil, reason: String? = nil, limit: Int = 500) async throws(OperationsError) -> [ProjectedDeadLetter] {
        try await read { db in
            guard try db.tableExists("dead_letters") else { return [] }
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let userId {
                conditions.append("user_id = ?")
                arguments += [userId]
            }
            if let reason {
                conditions.append("reason = ?")
                arguments += [reason]
            }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try Row.fetchAll(
                db, sql: "SELECT * FROM dead_letters \(filter) ORDER BY at_ms DESC, partition, offset LIMIT ?",
                arguments: arguments + [limit]
            ).map(Self.deadLetter)
        }
    }

    /// One dead letter with its original key and value bytes.
    public func deadLetter(partition: Int32, offset: Int64) async throws(OperationsError) -> (letter: ProjectedDeadLetter, value: [UInt8]?)? {
        try await read { db in
            guard try db.tableExists("dead_letters"),
                  let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM dead_letters WHERE partition = ? AND offset = ?", arguments: [Int(partition), offset])
            else { return nil }
            return (Self.deadLetter(row), (row["value"] as Data?).map { Array($0) })
        }
    }

    public func controls() async throws(OperationsError) -> [String: ProjectedControl] {
        try await read { db in try Self.controls(db, campaignId: nil) }
    }

    public func control(campaignId: String) async throws(OperationsError) -> ProjectedControl? {
        try await read { db in try Self.controls(db, campaignId: campaignId)[campaignId] }
    }

    /// The users whose messages carry this campaign (or sequence) id: empty when none arrived yet.
    public func owners(kind: ScopeSummary.Kind, id: String) async throws(OperationsError) -> Set<String> {
        try await read { db in
            Set(try String.fetchAll(db, sql: "SELECT DISTINCT user_id FROM messages WHERE \(kind.column) = ? LIMIT 10", arguments: [id]))
        }
    }

    /// One stored message, e.g. to check who owns it.
    public func message(id: String) async throws(OperationsError) -> ProjectedMessage? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM messages WHERE message_id = ?", arguments: [id]).map(Self.message)
        }
    }

    // MARK: helpers

    private static func summaries(_ db: Database, kind: ScopeSummary.Kind, id: String?, userId: String?, now: Date) throws -> [ScopeSummary] {
        let column = kind.column
        var conditions = ["\(column) IS NOT NULL"]
        var arguments: StatementArguments = []
        if let id {
            conditions.append("\(column) = ?")
            arguments += [id]
        }
        if let userId {
            conditions.append("user_id = ?")
            arguments += [userId]
        }
        let filter = conditions.joined(separator: " AND ")
        struct Accumulated {
            var userId: String
            var counts = StatusCounts()
            var first: Int64
            var last: Int64
        }
        var scopes: [String: Accumulated] = [:]
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT \(column) AS id, MIN(user_id) AS u, status, COUNT(*) AS n, MIN(first_at_ms) AS f, MAX(at_ms) AS l
                FROM messages WHERE \(filter) GROUP BY \(column), status
                """,
            arguments: arguments)
        {
            let key: String = row["id"]
            var scope = scopes[key] ?? Accumulated(userId: row["u"], first: row["f"], last: row["l"])
            if let status = MessageStatus(rawValue: row["status"]) { scope.counts[status] += row["n"] as Int }
            scope.userId = min(scope.userId, row["u"] as String)
            scope.first = min(scope.first, row["f"] as Int64)
            scope.last = max(scope.last, row["l"] as Int64)
            scopes[key] = scope
        }
        guard !scopes.isEmpty else { return [] }

        let windowStart = milliseconds(now.addingTimeInterval(-rateWindow))
        var finished: [String: (count: Int, earliest: Int64)] = [:]
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT \(column) AS id, COUNT(*) AS n, MIN(at_ms) AS e FROM messages
                WHERE \(filter) AND at_ms >= ? AND status IN (\(finalStatusList)) GROUP BY \(column)
                """,
            arguments: arguments + [windowStart])
        {
            finished[row["id"]] = (row["n"], row["e"])
        }
        var sentRecently: [String: Int] = [:]
        for row in try Row.fetchAll(
            db, sql: "SELECT \(column) AS id, COUNT(*) AS n FROM messages WHERE \(filter) AND sent_at_ms >= ? GROUP BY \(column)",
            arguments: arguments + [milliseconds(now.addingTimeInterval(-60))])
        {
            sentRecently[row["id"]] = row["n"]
        }
        let controlRecords = kind == .campaign ? try Self.controls(db, campaignId: id) : [:]
        let nowMs = milliseconds(now)
        return scopes.map { key, scope in
            var perSecond = 0.0
            if let done = finished[key], done.count > 0 {
                // From the first finish in the window, as the board does: a run that started a minute
                // ago is not averaged over five.
                perSecond = Double(done.count) / max(1, Double(nowMs - done.earliest) / 1000)
            }
            return ScopeSummary(
                kind: kind, id: key, userId: scope.userId, counts: scope.counts, firstAt: date(scope.first), lastAt: date(scope.last),
                finishedPerSecond: perSecond, sentLastMinute: sentRecently[key] ?? 0,
                etaSeconds: StatusSnapshot.eta(pending: scope.counts.pending, perSecond: perSecond), control: controlRecords[key])
        }
        .sorted { ($0.lastAt, $0.id) > ($1.lastAt, $1.id) }
    }

    private static func controls(_ db: Database, campaignId: String?) throws -> [String: ProjectedControl] {
        guard try db.tableExists("campaign_controls") else { return [:] }
        let rows = try campaignId.map {
            try Row.fetchAll(db, sql: "SELECT * FROM campaign_controls WHERE campaign_id = ?", arguments: [$0])
        } ?? Row.fetchAll(db, sql: "SELECT * FROM campaign_controls")
        var result: [String: ProjectedControl] = [:]
        for row in rows {
            guard let action = CampaignAction(rawValue: row["action"]) else { continue }
            let id: String = row["campaign_id"]
            result[id] = ProjectedControl(campaignId: id, action: action, at: date(row["at_ms"]), by: row["by_whom"])
        }
        return result
    }

    private static func deadLetter(_ row: Row) -> ProjectedDeadLetter {
        ProjectedDeadLetter(
            partition: Int32(row["partition"] as Int), offset: row["offset"], key: row["key"], reason: row["reason"], error: row["error"],
            sourceTopic: row["source_topic"], sourcePartition: (row["source_partition"] as Int?).map { Int32($0) },
            sourceOffset: row["source_offset"], worker: row["worker"], at: (row["at_ms"] as Int64?).map(date),
            messageId: row["message_id"], userId: row["user_id"], campaignId: row["campaign_id"], sequenceId: row["sequence_id"],
            deviceId: row["device_id"], recipientPhone: row["recipient_phone"], valueBytes: row["value_bytes"],
            replayedAt: (row["replayed_at_ms"] as Int64?).map(date), replayedBy: row["replayed_by"])
    }

    /// A bucket width that keeps the chart at 120 bars or fewer.
    static func bucketSeconds(spanMilliseconds: Int64) -> Int {
        let span = Double(max(0, spanMilliseconds)) / 1000
        for candidate in [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400] where span / Double(candidate) < 120 {
            return candidate
        }
        return 86400 * 7
    }
}
