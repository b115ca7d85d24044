import Foundation

/// When a step of an enrolment is sent: not before `scheduledAt`, never after `expiresAt`.
public struct StepTiming: Equatable, Sendable {
    public var scheduledAt: Date
    public var expiresAt: Date

    public init(scheduledAt: Date, expiresAt: Date) {
        self.scheduledAt = scheduledAt
        self.expiresAt = expiresAt
    }
}

/// Due-time arithmetic for sequence steps. Pure: no clock, no I/O.
///
/// Rules:
/// - Each step is sent on the local day `enrolment day + dayOffset`, the enrolment day being taken
///   in the step's own time zone, from the window start until the window end of that day.
/// - Late enrolment: when the contact enrols after the *first* step's window has closed on its day
///   (a day-0 first step, enrolment after its window end), day 0 becomes the next day for every step.
///   Shifting the whole sequence keeps the gaps between steps as written, instead of expiring the
///   welcome message or squeezing day 0 and day 1 together.
/// - DST: a window edge inside a skipped hour resolves to the next valid instant (02:30 on the
///   spring-forward night in New York → 03:00 EDT); a repeated hour takes its first occurrence.
///   When both edges fall into the gap, the window keeps its written length from the resolved start.
public enum StepSchedule {
    /// The timing of `sequence.steps[stepIndex]` for a contact enrolled at `enrolledAt`.
    public static func timing(of sequence: SequenceDefinition, stepIndex: Int, enrolledAt: Date) -> StepTiming? {
        guard sequence.steps.indices.contains(stepIndex), let first = sequence.steps.first else { return nil }
        let shift = isLateEnrolment(first: first, enrolledAt: enrolledAt) ? 1 : 0
        return timing(of: sequence.steps[stepIndex], enrolledAt: enrolledAt, extraDays: shift)
    }

    /// The timing of one step, `extraDays` after its day offset.
    public static func timing(of step: SequenceStep, enrolledAt: Date, extraDays: Int = 0) -> StepTiming? {
        guard let calendar = calendar(step.window.timeZone),
              let day = localDay(of: enrolledAt, plus: step.dayOffset + extraDays, in: calendar),
              let start = instant(on: day, at: step.window.start, in: calendar),
              var end = instant(on: day, at: step.window.end, in: calendar)
        else { return nil }
        if end <= start {
            let written = step.window.end.minutesSinceMidnight - step.window.start.minutesSinceMidnight
            end = start.addingTimeInterval(TimeInterval(written * 60))
        }
        return StepTiming(scheduledAt: start, expiresAt: end)
    }

    /// True when the first step's window has already closed at `enrolledAt` (only possible for a
    /// first step on day 0), which moves day 0 of the whole sequence to the next day.
    public static func isLateEnrolment(first: SequenceStep, enrolledAt: Date) -> Bool {
        guard let timing = timing(of: first, enrolledAt: enrolledAt) else { return false }
        return enrolledAt >= timing.expiresAt
    }

    static func calendar(_ zoneName: String) -> Calendar? {
        guard let zone = TimeZone(identifier: zoneName) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar
    }

    /// The local calendar day `days` after the day containing `date`.
    static func localDay(of date: Date, plus days: Int, in calendar: Calendar) -> DateComponents? {
        // Day arithmetic from local noon: no zone skips noon, while some skip midnight.
        var noon = calendar.dateComponents([.year, .month, .day], from: date)
        noon.hour = 12
        guard let anchor = calendar.date(from: noon),
              let target = calendar.date(byAdding: .day, value: days, to: anchor)
        else { return nil }
        return calendar.dateComponents([.year, .month, .day], from: target)
    }

    /// The instant of wall-clock `time` on local `day`; the next valid instant when that time is skipped.
    static func instant(on day: DateComponents, at time: TimeOfDay, in calendar: Calendar) -> Date? {
        var noon = day
        noon.hour = 12
        guard let noonDate = calendar.date(from: noon) else { return nil }
        let dayStart = calendar.startOfDay(for: noonDate)
        if time.minutesSinceMidnight == 0 { return dayStart }
        return calendar.nextDate(
            after: dayStart,
            matching: DateComponents(hour: time.hour, minute: time.minute, second: 0),
            matchingPolicy: .nextTime, repeatedTimePolicy: .first, direction: .forward)
    }
}
