import BroadcastModel
import Foundation
import Sequences
import Testing

@Suite("Due-step computation")
struct StepScheduleTests {
    func step(dayOffset: Int, start: String, end: String, zone: String) throws -> SequenceStep {
        SequenceStep(
            id: "s\(dayOffset)", dayOffset: dayOffset,
            window: SendWindow(start: try #require(TimeOfDay(start)), end: try #require(TimeOfDay(end)), timeZone: zone),
            content: .init(type: .text, text: "hi"), delay: .init(minSeconds: 1, maxSeconds: 2))
    }

    @Test func sameInstantIsADifferentLocalDayInKualaLumpurAndNewYork() throws {
        // 2026-06-01T02:00Z is 10:00 on 1 June in Kuala Lumpur (UTC+8) but 22:00 on 31 May in New York (UTC-4).
        let enrolledAt = utc("2026-06-01T02:00:00Z")
        let kl = try step(dayOffset: 1, start: "09:00", end: "17:00", zone: "Asia/Kuala_Lumpur")
        let ny = try step(dayOffset: 1, start: "09:00", end: "17:00", zone: "America/New_York")
        #expect(StepSchedule.timing(of: kl, enrolledAt: enrolledAt)
                == StepTiming(scheduledAt: utc("2026-06-02T01:00:00Z"), expiresAt: utc("2026-06-02T09:00:00Z")))
        #expect(StepSchedule.timing(of: ny, enrolledAt: enrolledAt)
                == StepTiming(scheduledAt: utc("2026-06-01T13:00:00Z"), expiresAt: utc("2026-06-01T21:00:00Z")))
    }

    @Test func dayOffsetsCrossTheSpringForwardChangeInNewYork() throws {
        // Enrolled Saturday 2026-03-07 10:00 EST (UTC-5); clocks go forward on Sunday 8 March at 02:00.
        let enrolledAt = utc("2026-03-07T15:00:00Z")
        let day0 = try step(dayOffset: 0, start: "09:00", end: "17:00", zone: "America/New_York")
        let day1 = try step(dayOffset: 1, start: "09:00", end: "17:00", zone: "America/New_York")
        #expect(StepSchedule.timing(of: day0, enrolledAt: enrolledAt)?.scheduledAt == utc("2026-03-07T14:00:00Z"))
        // 09:00 EDT is UTC-4: the wall-clock time holds, the UTC instant moves by an hour.
        #expect(StepSchedule.timing(of: day1, enrolledAt: enrolledAt)
                == StepTiming(scheduledAt: utc("2026-03-08T13:00:00Z"), expiresAt: utc("2026-03-08T21:00:00Z")))
    }

    @Test func aWindowStartInTheSkippedHourResolvesToTheNextValidInstant() throws {
        let enrolledAt = utc("2026-03-07T15:00:00Z")
        let skipped = try step(dayOffset: 1, start: "02:30", end: "05:00", zone: "America/New_York")
        // 02:30 does not exist on 8 March; the next valid instant is 03:00 EDT = 07:00Z.
        #expect(StepSchedule.timing(of: skipped, enrolledAt: enrolledAt)
                == StepTiming(scheduledAt: utc("2026-03-08T07:00:00Z"), expiresAt: utc("2026-03-08T09:00:00Z")))
        // Both edges in the gap: the window keeps its written length from 03:00.
        let inside = try step(dayOffset: 1, start: "02:10", end: "02:40", zone: "America/New_York")
        #expect(StepSchedule.timing(of: inside, enrolledAt: enrolledAt)
                == StepTiming(scheduledAt: utc("2026-03-08T07:00:00Z"), expiresAt: utc("2026-03-08T07:30:00Z")))
    }

    @Test func aRepeatedHourTakesItsFirstOccurrence() throws {
        // 1 November 2026: 01:00–02:00 happens twice in New York; the first is EDT (UTC-4).
        let repeated = try step(dayOffset: 1, start: "01:30", end: "03:00", zone: "America/New_York")
        #expect(StepSchedule.timing(of: repeated, enrolledAt: utc("2026-10-31T15:00:00Z"))?.scheduledAt == utc("2026-11-01T05:30:00Z"))
    }

    @Test func lateEnrolmentMovesDayZeroOfTheWholeSequence() throws {
        let sequence = try SequenceFile.parse(welcomeYAML())  // Kuala Lumpur, 09:00–18:00; tips 10:00–12:00 on day 1
        // 19:00 in Kuala Lumpur: day 0's window has closed, so day 0 is tomorrow for every step.
        let late = utc("2026-06-01T11:00:00Z")
        #expect(StepSchedule.timing(of: sequence, stepIndex: 0, enrolledAt: late)?.scheduledAt == utc("2026-06-02T01:00:00Z"))
        #expect(StepSchedule.timing(of: sequence, stepIndex: 1, enrolledAt: late)?.scheduledAt == utc("2026-06-03T02:00:00Z"))
        // 12:00 in Kuala Lumpur: inside the window, so day 0 is today and step 0 is due at once.
        let early = utc("2026-06-01T04:00:00Z")
        #expect(StepSchedule.timing(of: sequence, stepIndex: 0, enrolledAt: early)
                == StepTiming(scheduledAt: utc("2026-06-01T01:00:00Z"), expiresAt: utc("2026-06-01T10:00:00Z")))
        #expect(StepSchedule.timing(of: sequence, stepIndex: 2, enrolledAt: early)?.scheduledAt == utc("2026-06-04T01:00:00Z"))
    }
}
