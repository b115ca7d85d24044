import Foundation

/// A time of day on a wall clock, "HH:MM" (24-hour).
public struct ClockTime: Sendable, Equatable, Comparable, CustomStringConvertible {
    public var hour: Int
    public var minute: Int

    /// Parses "21:00", "8:30" or "08:30"; nil for anything else (including "24:00").
    public init?(parsing text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let hour = Int(parts[0]), let minute = Int(parts[1]),
              (0..<24).contains(hour), (0..<60).contains(minute)
        else { return nil }
        self.hour = hour
        self.minute = minute
    }

    var minutesSinceMidnight: Int { hour * 60 + minute }

    public static func < (lhs: ClockTime, rhs: ClockTime) -> Bool {
        lhs.minutesSinceMidnight < rhs.minutesSinceMidnight
    }

    public var description: String {
        (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)"
    }
}

public enum QuietHoursError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidTime(field: String, value: String)
    case emptyWindow(String)

    public var description: String {
        switch self {
        case .invalidTime(let field, let value):
            "quiet hours '\(field)' is \"\(value)\", not a time of day; use 24-hour HH:MM from 00:00 to 23:59"
        case .emptyWindow(let value):
            "quiet hours start and end are both \(value); omit quiet hours to send at any time"
        }
    }
}

/// Hours in which a device must not send, on the device's local clock, e.g. 21:00–08:00.
///
/// The window starts at the first moment the local clock reads `from` and ends at the first
/// following moment it reads `to` (end exclusive). When `to` ≤ `from` the window wraps past
/// midnight. DST: a boundary inside a skipped hour (02:30 on a spring-forward day) resolves to
/// the next valid instant (03:00 local); a boundary inside a repeated hour uses its first
/// occurrence, so a window never re-opens and re-closes within the repeat.
public struct QuietHours: Sendable, Equatable {
    public var from: ClockTime
    public var to: ClockTime

    public init(from: String, to: String) throws(QuietHoursError) {
        guard let start = ClockTime(parsing: from) else { throw .invalidTime(field: "from", value: from) }
        guard let end = ClockTime(parsing: to) else { throw .invalidTime(field: "to", value: to) }
        try self.init(from: start, to: end)
    }

    public init(from: ClockTime, to: ClockTime) throws(QuietHoursError) {
        guard from != to else { throw .emptyWindow(from.description) }
        self.from = from
        self.to = to
    }

    /// True when the window crosses midnight (e.g. 21:00–08:00).
    public var wrapsMidnight: Bool { to < from }

    /// nil when sending is allowed at `now`; otherwise the instant the quiet window ends.
    public func nextOpen(after now: Date, timeZone: TimeZone) -> Date? {
        let local = LocalCalendar(timeZone)
        let today = local.startOfDay(now)
        // A wrapping window that covers `now` may have started yesterday evening.
        let yesterday = local.calendar.date(byAdding: .day, value: -1, to: today) ?? today.addingTimeInterval(-86_400)
        for day in [yesterday, today] {
            guard let start = firstInstant(of: from, onDayStarting: day, local: local) else { continue }
            let endDay = wrapsMidnight ? local.startOfNextDay(day) : day
            guard let end = firstInstant(of: to, onDayStarting: endDay, local: local) else { continue }
            if start <= now, now < end {
                return end
            }
        }
        return nil
    }

    /// The first instant on the local day beginning at `dayStart` at which the clock reads `time`
    /// (or the first valid instant after it, when DST skips that time).
    private func firstInstant(of time: ClockTime, onDayStarting dayStart: Date, local: LocalCalendar) -> Date? {
        let wanted = DateComponents(hour: time.hour, minute: time.minute, second: 0)
        return local.calendar.nextDate(
            after: dayStart.addingTimeInterval(-1),
            matching: wanted,
            matchingPolicy: .nextTime,
            repeatedTimePolicy: .first,
            direction: .forward
        )
    }
}
