import Foundation
import Testing
@testable import AntiSpam

@Suite struct DeviceHealthTests {
    let t0 = Fixture.date("2026-01-10T10:00:00Z")

    @Test func coolOffGrowsAndIsCapped() {
        var health = DeviceHealth()
        #expect(!health.isPaused(at: t0))
        var now = t0
        var pauses: [TimeInterval] = []
        for _ in 0..<9 {
            let until = health.recordBanLike(reason: "quality_low", at: now)
            pauses.append(until.timeIntervalSince(now))
            now = until.addingTimeInterval(60)  // next error a minute after resuming
        }
        #expect(pauses.map { $0 / 60 } == [15, 30, 60, 120, 240, 480, 960, 1_440, 1_440])
        #expect(health.pauseReason == "quality_low")
    }

    @Test func pausedStateAndSuccessClearsExpiredPause() {
        var health = DeviceHealth()
        health.recordBanLike(reason: "blocked", at: t0)
        #expect(health.isPaused(at: t0.addingTimeInterval(14 * 60)))
        #expect(!health.isPaused(at: t0.addingTimeInterval(15 * 60)))
        #expect(health.pausedUntil == t0.addingTimeInterval(15 * 60))
        health.recordSuccess(at: t0.addingTimeInterval(16 * 60))
        #expect(health.pausedUntil == nil && health.pauseReason == nil)
        #expect(health.strikes == 1)
    }

    @Test func repeatsDecayAfterQuietPeriods() {
        var health = DeviceHealth()
        health.recordBanLike(reason: "blocked", at: t0)
        let secondEnd = health.recordBanLike(reason: "blocked", at: t0.addingTimeInterval(20 * 60))  // 30 min
        #expect(health.strikes(at: secondEnd) == 2)
        // One strike forgiven per full 24 h counted from the end of the pause.
        #expect(health.strikes(at: secondEnd.addingTimeInterval(24 * 3_600 - 1)) == 2)
        #expect(health.strikes(at: secondEnd.addingTimeInterval(24 * 3_600)) == 1)
        #expect(health.strikes(at: secondEnd.addingTimeInterval(48 * 3_600)) == 0)

        var afterOneDay = health
        let day = secondEnd.addingTimeInterval(25 * 3_600)
        let oneDayPause = afterOneDay.recordBanLike(reason: "blocked", at: day)
        #expect(oneDayPause == day.addingTimeInterval(30 * 60))
        var afterTwoDays = health
        let twoDays = secondEnd.addingTimeInterval(49 * 3_600)
        let twoDayPause = afterTwoDays.recordBanLike(reason: "blocked", at: twoDays)
        #expect(twoDayPause == twoDays.addingTimeInterval(15 * 60))
    }

    @Test func pauseIsNeverShortened() {
        var health = DeviceHealth()
        health.recordBanLike(reason: "a", at: t0)
        health.recordBanLike(reason: "b", at: t0.addingTimeInterval(60))  // second strike: 30 min
        let long = health.pausedUntil
        health.resume()
        #expect(!health.isPaused(at: t0.addingTimeInterval(120)))
        var custom = DeviceHealth(configuration: .init(baseCoolOff: 3_600, multiplier: 1))
        custom.recordBanLike(reason: "a", at: t0)
        let flat = custom.recordBanLike(reason: "b", at: t0.addingTimeInterval(60))
        #expect(flat == t0.addingTimeInterval(3_660))
        #expect(long == t0.addingTimeInterval(60 + 30 * 60))
    }
}
