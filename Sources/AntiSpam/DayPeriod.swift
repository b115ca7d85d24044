import Foundation

/// Part of the day, in the device's local time, that picks the greeting.
///
/// Boundaries (local wall clock, start inclusive):
/// morning 05:00–11:59, afternoon 12:00–17:59, evening 18:00–21:59, night 22:00–04:59.
public enum DayPeriod: String, Sendable, CaseIterable {
    case morning, afternoon, evening, night

    public init(hour: Int) {
        switch hour {
        case 5..<12: self = .morning
        case 12..<18: self = .afternoon
        case 18..<22: self = .evening
        default: self = .night
        }
    }

    /// The period at `date` as seen on a clock in `timeZone`.
    public static func at(_ date: Date, timeZone: TimeZone) -> DayPeriod {
        DayPeriod(hour: LocalCalendar(timeZone).calendar.component(.hour, from: date))
    }
}
