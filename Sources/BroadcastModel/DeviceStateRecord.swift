import Foundation

/// One device's safety state: the `broadcast.device.v1` record on the compacted topic
/// `broadcast.devices`, keyed by ``deviceId``. Workers write it after every send and every pause, and
/// read it before sending for a device they took over, so caps, warm-up, pauses and pacing survive
/// rebalances, restarts and crashes. Operators write it to pause, resume or retire a device.
///
/// Each record is the device's whole state (compaction keeps only the latest per key). Its size is
/// bounded: sends are counted per minute over the longest cap window, at most ``maxSendMinutes``.
public struct DeviceStateRecord: Equatable, Sendable {
    public static let schemaID = RecordSchema.device
    public var schema: String { Self.schemaID }

    /// The longest window a cap looks back over (the daily cap counts a local day; 26 h covers any
    /// time zone's day), in minutes: the bound on ``sendMinutes``.
    public static let maxSendMinutes = 26 * 60

    /// Sends in one minute (`minute` = Unix time / 60).
    public struct MinuteCount: Equatable, Sendable {
        public var minute: Int64
        public var count: Int

        public init(minute: Int64, count: Int) {
            self.minute = minute
            self.count = count
        }
    }

    /// A cool-off after ban-like provider errors.
    public struct Pause: Equatable, Sendable {
        public var until: Date
        /// The provider's error code that caused it.
        public var reason: String
        public var strikes: Int
        public var lastBanLikeAt: Date

        public init(until: Date, reason: String, strikes: Int, lastBanLikeAt: Date) {
            self.until = until
            self.reason = reason
            self.strikes = strikes
            self.lastBanLikeAt = lastBanLikeAt
        }
    }

    /// What an operator decided for the device.
    public enum OperatorStatus: String, Sendable, CaseIterable {
        /// Sends as its policy allows (the default).
        case active
        /// Holds every message until resumed.
        case paused
        /// Never sends again: its messages are skipped (reason `device_retired`).
        case retired
    }

    public struct OperatorDecision: Equatable, Sendable {
        public var status: OperatorStatus
        public var at: Date
        /// Who decided (operator name or host), for the audit trail.
        public var by: String

        public init(status: OperatorStatus, at: Date, by: String) {
            self.status = status
            self.at = at
            self.by = by
        }
    }

    /// Where a parked device's waiting messages are: it could not send for a long while (quiet
    /// hours, a cap, a cool-off, a far `scheduledAt`), so its records were let go from the worker's
    /// memory and its partition's commit point moved past them. They stay in `broadcast.messages`
    /// and are read again, in order, from ``fromOffset`` when the device wakes.
    public struct Parking: Equatable, Sendable {
        public enum State: String, Sendable, CaseIterable {
            /// The device's records from ``Parking/fromOffset`` on are read again when it wakes.
            case parked
            /// Every record read again was handled: the device sends from its lane as usual.
            case released
        }

        public var state: State
        /// The device's partition of `broadcast.messages`.
        public var partition: Int32
        /// The lowest offset of the partition that may hold an unhandled record of the device.
        public var fromOffset: Int64
        /// When the device may send again (its records are read again then).
        public var wakeAt: Date
        /// Why it waits (a hold reason such as `quiet_hours` or `hourly_cap`).
        public var reason: String
        /// Raised by each change; the higher one wins a merge (one owner writes at a time).
        public var revision: Int64

        public init(state: State, partition: Int32, fromOffset: Int64, wakeAt: Date, reason: String, revision: Int64) {
            self.state = state
            self.partition = partition
            self.fromOffset = fromOffset
            self.wakeAt = wakeAt
            self.reason = reason
            self.revision = revision
        }

        public var isParked: Bool { state == .parked }
    }

    public var deviceId: String
    public var updatedAt: Date
    /// The worker (or operator tool) that wrote the record.
    public var writer: String
    /// Sends per minute, ascending by minute, none older than ``maxSendMinutes`` before the newest.
    public var sendMinutes: [MinuteCount]
    /// The device's first send: starts warm-up.
    public var firstSendAt: Date?
    /// The device's latest send: paces the first send of a new owner.
    public var lastSendAt: Date?
    public var pause: Pause?
    public var operatorDecision: OperatorDecision?
    public var parking: Parking?

    public init(
        deviceId: String, updatedAt: Date, writer: String, sendMinutes: [MinuteCount] = [], firstSendAt: Date? = nil,
        lastSendAt: Date? = nil, pause: Pause? = nil, operatorDecision: OperatorDecision? = nil, parking: Parking? = nil
    ) {
        self.deviceId = deviceId
        self.updatedAt = updatedAt
        self.writer = writer
        self.sendMinutes = sendMinutes
        self.firstSendAt = firstSendAt
        self.lastSendAt = lastSendAt
        self.pause = pause
        self.operatorDecision = operatorDecision
        self.parking = parking
    }

    /// The operator's status, `active` when none was ever given.
    public var operatorStatus: OperatorStatus { operatorDecision?.status ?? .active }

    /// The Unix minute `instant` falls in, as ``sendMinutes`` counts them.
    public static func minute(of instant: Date) -> Int64 {
        Int64((instant.timeIntervalSince1970 / 60).rounded(.down))
    }

    /// Sends in the minutes `[from, to]` (Unix minutes).
    public func sends(fromMinute from: Int64, toMinute to: Int64) -> Int {
        sendMinutes.reduce(0) { $0 + (($1.minute >= from && $1.minute <= to) ? $1.count : 0) }
    }

    /// Sends in the hour's minutes up to and including the one `instant` falls in.
    public func sendsInLastHour(at instant: Date) -> Int {
        let now = Self.minute(of: instant)
        return sends(fromMinute: now - 59, toMinute: now)
    }

    // MARK: Merge

    /// Both states in one, so that reading a record twice, or an older one after a newer one,
    /// changes nothing: per minute the larger count (each owner's record already includes what it
    /// loaded from the previous owner), the earliest first send, the latest last send, the pause
    /// of the latest ban-like error, the latest operator decision, and the parking of the highest revision.
    public func merged(with other: DeviceStateRecord) -> DeviceStateRecord {
        var result = self
        result.updatedAt = max(updatedAt, other.updatedAt)
        if other.updatedAt > updatedAt { result.writer = other.writer }
        result.sendMinutes = Self.mergedMinutes(sendMinutes, other.sendMinutes)
        result.firstSendAt = [firstSendAt, other.firstSendAt].compactMap { $0 }.min()
        result.lastSendAt = [lastSendAt, other.lastSendAt].compactMap { $0 }.max()
        switch (pause, other.pause) {
        case (nil, let theirs): result.pause = theirs
        case (let ours?, let theirs?) where theirs.lastBanLikeAt > ours.lastBanLikeAt
            || (theirs.lastBanLikeAt == ours.lastBanLikeAt && theirs.until > ours.until): result.pause = theirs
        default: break
        }
        switch (operatorDecision, other.operatorDecision) {
        case (nil, let theirs): result.operatorDecision = theirs
        case (let ours?, let theirs?) where theirs.at > ours.at: result.operatorDecision = theirs
        default: break
        }
        result.parking = Self.newer(parking, other.parking)
        return result
    }

    /// The parking of the higher revision (on a tie, the one further on in the partition).
    public static func newer(_ a: Parking?, _ b: Parking?) -> Parking? {
        guard let a else { return b }
        guard let b else { return a }
        if b.revision != a.revision { return b.revision > a.revision ? b : a }
        return b.fromOffset > a.fromOffset ? b : a
    }

    static func mergedMinutes(_ a: [MinuteCount], _ b: [MinuteCount]) -> [MinuteCount] {
        if b.isEmpty { return a }
        if a.isEmpty { return b }
        var result: [MinuteCount] = []
        result.reserveCapacity(max(a.count, b.count))
        var (i, j) = (a.startIndex, b.startIndex)
        while i < a.endIndex || j < b.endIndex {
            if j == b.endIndex || (i < a.endIndex && a[i].minute < b[j].minute) {
                result.append(a[i]); i += 1
            } else if i == a.endIndex || b[j].minute < a[i].minute {
                result.append(b[j]); j += 1
            } else {
                result.append(MinuteCount(minute: a[i].minute, count: max(a[i].count, b[j].count)))
                i += 1; j += 1
            }
        }
        return trimmed(result)
    }

    /// Drops minutes older than the window before the newest one.
    static func trimmed(_ minutes: [MinuteCount]) -> [MinuteCount] {
        guard let newest = minutes.last?.minute else { return minutes }
        let oldest = newest - Int64(maxSendMinutes) + 1
        guard let first = minutes.first, first.minute < oldest else { return minutes }
        return Array(minutes.drop { $0.minute < oldest })
    }

    // MARK: Validation and codec

    public func validate() throws(ValidationError) {
        var c = IssueCollector()
        c.id(deviceId, "deviceId")
        c.maxLength(writer, 256, "writer")
        c.check(sendMinutes.count <= Self.maxSendMinutes, "sendMinutes",
                "holds \(sendMinutes.count) minutes; at most \(Self.maxSendMinutes) (26 hours) are kept")
        c.check(sendMinutes.allSatisfy { $0.count >= 1 && $0.minute >= 0 }, "sendMinutes",
                "every entry must be [minute >= 0, count >= 1]")
        c.check(zip(sendMinutes, sendMinutes.dropFirst()).allSatisfy { $0.minute < $1.minute }, "sendMinutes",
                "minutes must be ascending and unique")
        if let first = sendMinutes.first, let last = sendMinutes.last {
            c.check(last.minute - first.minute < Int64(Self.maxSendMinutes), "sendMinutes",
                    "spans more than \(Self.maxSendMinutes) minutes")
        }
        if let pause {
            c.check(pause.strikes >= 0, "pause.strikes", "must not be negative")
            c.check(!pause.reason.isEmpty, "pause.reason", "must not be empty")
            c.maxLength(pause.reason, 256, "pause.reason")
        }
        if let decision = operatorDecision { c.maxLength(decision.by, 256, "operator.by") }
        if let parking {
            c.check(parking.partition >= 0, "parking.partition", "must not be negative")
            c.check(parking.fromOffset >= 0, "parking.fromOffset", "must not be negative")
            c.check(parking.revision >= 0, "parking.revision", "must not be negative")
            c.check(!parking.reason.isEmpty, "parking.reason", "must not be empty")
            c.maxLength(parking.reason, 256, "parking.reason")
        }
        try c.finish()
    }

    public func encoded() -> [UInt8] {
        var w = JSONWriter(capacity: 192 + sendMinutes.count * 16)
        w.field("schema", Self.schemaID)
        w.field("deviceId", deviceId)
        w.field("updatedAt", updatedAt)
        w.field("writer", writer)
        w.pairs("sendMinutes", sendMinutes.lazy.map { ($0.minute, Int64($0.count)) })
        w.field("firstSendAt", firstSendAt)
        w.field("lastSendAt", lastSendAt)
        if let pause {
            w.object("pause") { w in
                w.field("until", pause.until)
                w.field("reason", pause.reason)
                w.field("strikes", pause.strikes)
                w.field("lastBanLikeAt", pause.lastBanLikeAt)
            }
        }
        if let decision = operatorDecision {
            w.object("operator") { w in
                w.field("status", decision.status.rawValue)
                w.field("at", decision.at)
                w.field("by", decision.by)
            }
        }
        if let parking {
            w.object("parking") { w in
                w.field("state", parking.state.rawValue)
                w.field("partition", Int64(parking.partition))
                w.field("fromOffset", parking.fromOffset)
                w.field("wakeAt", parking.wakeAt)
                w.field("reason", parking.reason)
                w.field("revision", parking.revision)
            }
        }
        return w.finish()
    }

    public static func decode(from bytes: [UInt8]) throws(RecordError) -> DeviceStateRecord {
        try RecordDecoding.decode(bytes, schema: schemaID, read)
    }

    public static func decodeValidated(from bytes: [UInt8]) throws(RecordError) -> DeviceStateRecord {
        let record = try decode(from: bytes)
        do throws(ValidationError) { try record.validate() } catch { throw .invalid(error) }
        return record
    }

    /// A record as read from `broadcast.devices`: valid, and about the device its key names (a
    /// record whose `deviceId` is not its key is refused like a malformed one).
    public static func decodeValidated(key: String, value: [UInt8]) throws(RecordError) -> DeviceStateRecord {
        let record = try decodeValidated(from: value)
        guard record.deviceId == key else {
            throw .invalidValue(field: "deviceId", reason: "\"\(record.deviceId)\" is not the record's key \"\(key)\"")
        }
        return record
    }

    static func read(_ s: inout JSONScanner) throws(RecordError) -> DeviceStateRecord {
        var schema, deviceId, writer: String?
        var updatedAt, firstSendAt, lastSendAt: Date?
        var minutes: [MinuteCount] = []
        var pause: Pause?
        var decision: OperatorDecision?
        var parking: Parking?
        try s.beginObject("")
        var first = true
        while let key = try s.nextKey(&first) {
            switch key {
            case "schema": schema = try s.optionalString(key)
            case "deviceId": deviceId = try s.optionalString(key)
            case "updatedAt": updatedAt = try s.optionalDate(key)
            case "writer": writer = try s.optionalString(key)
            case "sendMinutes": minutes = try readMinutes(&s)
            case "firstSendAt": firstSendAt = try s.optionalDate(key)
            case "lastSendAt": lastSendAt = try s.optionalDate(key)
            case "pause": pause = try s.optionalObject(key, readPause)
            case "operator": decision = try s.optionalObject(key, readDecision)
            case "parking": parking = try s.optionalObject(key, readParking)
            default: try s.skipValue()
            }
        }
        guard schema == schemaID else { throw .unsupportedSchema(found: schema, expected: schemaID) }
        return DeviceStateRecord(
            deviceId: try RecordDecoding.required(deviceId, "deviceId"),
            updatedAt: try RecordDecoding.required(updatedAt, "updatedAt"),
            writer: writer ?? "", sendMinutes: minutes, firstSendAt: firstSendAt, lastSendAt: lastSendAt,
            pause: pause, operatorDecision: decision, parking: parking)
    }

    private static func readParking(_ s: inout JSONScanner) throws(RecordError) -> Parking {
        var state: Parking.State?
        var partition, fromOffset, revision: Int64?
        var wakeAt: Date?
        var reason: String?
        var first = true
        while let key = try s.nextKey(&first) {
            switch key {
            case "state": state = try s.optionalEnum("parking.state", Parking.State.self)
            case "partition": partition = try s.optionalInt64("parking.partition")
            case "fromOffset": fromOffset = try s.optionalInt64("parking.fromOffset")
            case "wakeAt": wakeAt = try s.optionalDate("parking.wakeAt")
            case "reason": reason = try s.optionalString("parking.reason")
            case "revision": revision = try s.optionalInt64("parking.revision")
            default: try s.skipValue()
            }
        }
        guard let number = Int32(exactly: try RecordDecoding.required(partition, "parking.partition")) else {
            throw .invalidValue(field: "parking.partition", reason: "out of range")
        }
        return Parking(
            state: try RecordDecoding.required(state, "parking.state"), partition: number,
            fromOffset: try RecordDecoding.required(fromOffset, "parking.fromOffset"),
            wakeAt: try RecordDecoding.required(wakeAt, "parking.wakeAt"),
            reason: try RecordDecoding.required(reason, "parking.reason"),
            revision: try RecordDecoding.required(revision, "parking.revision"))
    }

    private static func readMinutes(_ s: inout JSONScanner) throws(RecordError) -> [MinuteCount] {
        if try s.skipNull() { return [] }
        try s.beginArray("sendMinutes")
        var minutes: [MinuteCount] = []
        var first = true
        while try s.nextElement(&first) {
            let path = "sendMinutes[\(minutes.count)]"
            guard minutes.count < maxSendMinutes else {
                throw .invalidValue(field: "sendMinutes", reason: "holds more than \(maxSendMinutes) minutes")
            }
            try s.beginArray(path)
            var inner = true
            guard try s.nextElement(&inner) else { throw .invalidValue(field: path, reason: "must be [minute, count]") }
            let minute = try s.int64(path)
            guard try s.nextElement(&inner) else { throw .invalidValue(field: path, reason: "must be [minute, count]") }
            let count = try s.int64(path)
            guard try !s.nextElement(&inner) else { throw .invalidValue(field: path, reason: "must be [minute, count]") }
            guard let small = Int(exactly: count) else { throw .invalidValue(field: path, reason: "count out of range") }
            minutes.append(MinuteCount(minute: minute, count: small))
        }
        return minutes
    }

    private static func readPause(_ s: inout JSONScanner) throws(RecordError) -> Pause {
        var until, lastBanLikeAt: Date?
        var reason: String?
        var strikes: Int64?
        var first = true
        while let key = try s.nextKey(&first) {
            switch key {
            case "until": until = try s.optionalDate("pause.until")
            case "reason": reason = try s.optionalString("pause.reason")
            case "strikes": strikes = try s.optionalInt64("pause.strikes")
            case "lastBanLikeAt": lastBanLikeAt = try s.optionalDate("pause.lastBanLikeAt")
            default: try s.skipValue()
            }
        }
        guard let count = Int(exactly: try RecordDecoding.required(strikes, "pause.strikes")) else {
            throw .invalidValue(field: "pause.strikes", reason: "out of range")
        }
        return Pause(
            until: try RecordDecoding.required(until, "pause.until"), reason: try RecordDecoding.required(reason, "pause.reason"),
            strikes: count, lastBanLikeAt: try RecordDecoding.required(lastBanLikeAt, "pause.lastBanLikeAt"))
    }

    private static func readDecision(_ s: inout JSONScanner) throws(RecordError) -> OperatorDecision {
        var status: OperatorStatus?
        var at: Date?
        var by: String?
        var first = true
        while let key = try s.nextKey(&first) {
            switch key {
            case "status": status = try s.optionalEnum("operator.status", OperatorStatus.self)
            case "at": at = try s.optionalDate("operator.at")
            case "by": by = try s.optionalString("operator.by")
            default: try s.skipValue()
            }
        }
        return OperatorDecision(
            status: try RecordDecoding.required(status, "operator.status"), at: try RecordDecoding.required(at, "operator.at"),
            by: by ?? "")
    }
}
