import Foundation

/// A Gregorian calendar pinned to a time zone. All "local" arithmetic (days, hours, windows) goes
/// through this so every part agrees on what "today" means for a device.
struct LocalCalendar {
    let calendar: Calendar

    init(_ timeZone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    func startOfDay(_ date: Date) -> Date {
        calendar.startOfDay(for: date)
    }

    /// Start of the local day after the one containing `date`.
    func startOfNextDay(_ date: Date) -> Date {
        let start = startOfDay(date)
        // Adding one calendar day (not 86 400 s) keeps DST days of 23 or 25 hours right.
        if let next = calendar.date(byAdding: .day, value: 1, to: start), next > start {
            return next
        }
        return start.addingTimeInterval(86_400)
    }

    /// Whole local calendar days from `earlier` to `later` (0 on the same local day; never negative).
    func calendarDays(from earlier: Date, to later: Date) -> Int {
        let days = calendar.dateComponents([.day], from: startOfDay(earlier), to: startOfDay(later)).day ?? 0
        return max(0, days)
    }
}
