import Testing
@testable import DeviceWorker

@Suite struct WakeScheduleTests {
    @Test func dueDevicesComeOutEarliestFirstAndOnce() {
        var schedule = WakeSchedule()
        schedule.schedule("b", at: 20)
        schedule.schedule("a", at: 10)
        schedule.schedule("c", at: 30)
        #expect(schedule.nextDue == 10)
        #expect(schedule.takeDue(now: 9).isEmpty)
        #expect(schedule.takeDue(now: 25) == ["a", "b"])
        #expect(schedule.takeDue(now: 25).isEmpty)
        #expect(schedule.count == 1)
        #expect(schedule.nextDue == 30)
    }

    @Test func reschedulingMovesTheTimerAndCancelDropsIt() {
        var schedule = WakeSchedule()
        schedule.schedule("a", at: 10)
        schedule.schedule("a", at: 50)
        schedule.schedule("b", at: 20)
        schedule.cancel("b")
        #expect(schedule.takeDue(now: 40).isEmpty)
        #expect(schedule.nextDue == 50)
        #expect(schedule.takeDue(now: 50) == ["a"])
        #expect(schedule.nextDue == nil)
    }

    @Test func staleEntriesDoNotGrowWithoutBound() {
        var schedule = WakeSchedule()
        for round in 0..<20_000 { schedule.schedule("d\(round % 10)", at: Double(round)) }
        #expect(schedule.count == 10)
        #expect(schedule.takeDue(now: 1_000_000).count == 10)
    }
}
