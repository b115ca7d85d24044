import BroadcastModel
import Foundation

/// Which cap holds a send back.
public enum CapKind: String, Sendable {
    case hourly, daily
}

/// A cap-induced wait: the earliest instant every cap allows a send, and the cap that blocks now.
public struct CapHold: Sendable, Equatable {
    public var until: Date
    public var kind: CapKind

    public init(until: Date, kind: CapKind) {
        self.until = until
        self.kind = kind
    }
}

/// The recent sends of one device, enough to enforce hourly and daily caps.
///
/// - Hourly is a rolling 60 minutes: a send at t counts until t + 60 min.
/// - Daily is the calendar day on the device's clock (midnight to midnight in its time zone, so a
///   DST day has 23 or 25 hours), which is how operators and WhatsApp limits think of "a day".
/// - Memory is bounded by time: only sends in the last `retention` (26 h, longer than any local
///   day) are kept, so it holds at most about one day of the device's sends.
public struct SendLedger: Sendable, Equatable {
    public static let hourWindow: TimeInterval = 3_600
    public static let retention: TimeInterval = 26 * 3_600

    /// Recent send instants, ascending.
    public private(set) var sends: [Date] = []
    /// The device's first send ever recorded here (or restored by the caller); starts warm-up.
    public private(set) var firstSendAt: Date?
    /// The device's latest send (kept exactly: restored sends sit at the end of their minute).
    public private(set) var lastSendAt: Date?

    public init(firstSendAt: Date? = nil) {
        self.firstSendAt = firstSendAt
    }

    public mutating func record(at instant: Date) {
        // Usually appended; a late report is inserted in order so binary searches stay valid.
        let index = sends.partitioningIndex { $0 > instant }
        sends.insert(instant, at: index)
        if firstSendAt.map({ instant < $0 }) ?? true {
            firstSendAt = instant
        }
        if lastSendAt.map({ instant > $0 }) ?? true {
            lastSendAt = instant
        }
        trim()
    }

    /// A send already counted (reserved before it was made) has been made: only its time is kept.
    public mutating func noteSent(at instant: Date) {
        if lastSendAt.map({ instant > $0 }) ?? true { lastSendAt = instant }
    }

    /// Sends per minute (Unix minute, count), ascending: the ledger as the device-state record keeps it.
    public var sendsPerMinute: [(minute: Int64, count: Int)] {
        var result: [(minute: Int64, count: Int)] = []
        for send in sends {
            let minute = DeviceStateRecord.minute(of: send)
            if result.last?.minute == minute { result[result.count - 1].count += 1 } else { result.append((minute, 1)) }
        }
        return result
    }

    /// Takes in sends known from elsewhere (another worker's record of this device): per minute,
    /// the ledger ends up with the larger of the two counts, so taking the same record in twice,
    /// or a record that already includes this ledger's sends, counts nothing twice. Added sends sit
    /// at the last millisecond of their minute, so they count in each cap window as long as the
    /// real send could.
    public mutating func absorb(sendsPerMinute minutes: [(minute: Int64, count: Int)], firstSendAt: Date?, lastSendAt: Date?) {
        if let firstSendAt, self.firstSendAt.map({ firstSendAt < $0 }) ?? true { self.firstSendAt = firstSendAt }
        if let lastSendAt, self.lastSendAt.map({ lastSendAt > $0 }) ?? true { self.lastSendAt = lastSendAt }
        guard !minutes.isEmpty else { return }
        let local = Dictionary(sendsPerMinute.map { ($0.minute, $0.count) }, uniquingKeysWith: +)
        var added: [Date] = []
        for (minute, count) in minutes where count > (local[minute] ?? 0) {
            let instant = Date(timeIntervalSince1970: Double(minute) * 60 + 59.999)
            added.append(contentsOf: repeatElement(instant, count: count - (local[minute] ?? 0)))
        }
        guard !added.isEmpty else { return }
        sends = (sends + added).sorted()
        trim()
    }

    /// Keeps only the sends within `retention` of the newest.
    private mutating func trim() {
        if let newest = sends.last {
            let keepFrom = sends.partitioningIndex { $0 >= newest.addingTimeInterval(-Self.retention) }
            sends.removeFirst(keepFrom)
        }
    }

    /// nil when a send is allowed at `now`; otherwise the earliest instant all caps allow it.
    /// `firstSendAt` (the device's first send, from wherever the caller keeps it) starts warm-up;
    /// when nil, the ledger's own first send is used, and a device that never sent is on day 0.
    public func nextAllowedSend(at now: Date, caps: SendCaps, timeZone: TimeZone, firstSendAt: Date?) -> Date? {
        hold(at: now, caps: caps, timeZone: timeZone, firstSendAt: firstSendAt)?.until
    }

    /// Like `nextAllowedSend`, also naming the cap that blocks at `now`.
    public func hold(at now: Date, caps: SendCaps, timeZone: TimeZone, firstSendAt: Date?) -> CapHold? {
        let local = LocalCalendar(timeZone)
        let origin = firstSendAt ?? self.firstSendAt
        var instant = now
        var blocking: CapKind?
        // Clearing one cap can land inside another's limit (a new day that starts within an hour
        // of late sends), so re-check at each candidate. Each step moves forward; a few suffice.
        for _ in 0..<8 {
            if let until = dailyRelease(at: instant, caps: caps, local: local, origin: origin) {
                blocking = blocking ?? .daily
                instant = until
            } else if let until = hourlyRelease(at: instant, caps: caps) {
                blocking = blocking ?? .hourly
                instant = until
            } else {
                break
            }
        }
        return blocking.map { CapHold(until: instant, kind: $0) }
    }

    /// Sends in the rolling hour ending at `instant`.
    public func sendsInLastHour(at instant: Date) -> Int {
        sends.count - sends.partitioningIndex { $0 > instant.addingTimeInterval(-Self.hourWindow) }
    }

    /// Sends since local midnight of `instant`'s day.
    public func sendsToday(at instant: Date, timeZone: TimeZone) -> Int {
        let start = LocalCalendar(timeZone).startOfDay(instant)
        return sends.count - sends.partitioningIndex { $0 >= start }
    }

    private func dailyRelease(at instant: Date, caps: SendCaps, local: LocalCalendar, origin: Date?) -> Date? {
        let day = origin.map { local.calendarDays(from: $0, to: instant) } ?? 0
        guard let limit = caps.dailyLimit(onDay: day) else { return nil }
        let start = local.startOfDay(instant)
        let today = sends.count - sends.partitioningIndex { $0 >= start }
        return today >= limit ? local.startOfNextDay(instant) : nil
    }

    private func hourlyRelease(at instant: Date, caps: SendCaps) -> Date? {
        guard let hourly = caps.hourly else { return nil }
        let limit = max(1, hourly)
        let windowStart = sends.partitioningIndex { $0 > instant.addingTimeInterval(-Self.hourWindow) }
        let inWindow = sends.count - windowStart
        guard inWindow >= limit else { return nil }
        // Once the (inWindow - limit + 1) oldest sends in the window have aged out, one slot is free.
        return sends[windowStart + inWindow - limit].addingTimeInterval(Self.hourWindow)
    }
}

extension Array {
    /// First index whose element satisfies `predicate`, for a predicate that is false then true
    /// along the array (binary search); `count` when none does.
    func partitioningIndex(where predicate: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if predicate(self[mid]) {
                high = mid
            } else {
                low = mid + 1
            }
        }
        return low
    }
}
