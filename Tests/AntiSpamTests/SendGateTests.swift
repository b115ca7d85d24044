import Foundation
import Testing
@testable import AntiSpam

@Suite struct SendGateTests {
    let phone = "+60123456789"
    // 2026-01-10 22:00 in Kuala Lumpur.
    let lateEvening = Fixture.date("2026-01-10T14:00:00Z")

    func gate(caps: SendCaps = .unlimited, quiet: Bool = true, optedOut: Bool = false) throws -> SendGate {
        let policy = DeviceSendPolicy(
            timeZone: Fixture.kualaLumpur,
            locale: "ms",
            caps: caps,
            quietHours: quiet ? try QuietHours(from: "21:00", to: "08:00") : nil
        )
        return SendGate(policy: policy, optOut: OptOutList(optedOut ? [phone] : []))
    }

    @Test func defaultsSendImmediately() {
        let gate = SendGate()
        #expect(gate.policy.timeZone.secondsFromGMT(for: lateEvening) == 0 && gate.policy.locale == "en" && gate.policy.quietHours == nil)
        #expect(gate.decide(phone: phone, now: lateEvening) == .send)
    }

    @Test func optOutBeatsEverything() throws {
        var gate = try gate(caps: SendCaps(hourly: 1), optedOut: true)
        gate.recordBanLike(reason: "blocked", at: lateEvening)
        gate.recordSend(at: lateEvening)
        #expect(gate.decide(phone: phone, now: lateEvening) == .skip(reason: .optOut))
        #expect(gate.decide(phone: "0123456789", now: lateEvening) == .skip(reason: .invalidPhone))
    }

    @Test func pausedBeatsQuietHoursAndWaitsForBoth() throws {
        var gate = try gate()
        gate.recordBanLike(reason: "blocked", at: lateEvening)
        // Paused until 22:15, but quiet until 08:00: one wake-up at 08:00, reported as the pause.
        #expect(gate.decide(phone: phone, now: lateEvening)
            == .wait(until: Fixture.date("2026-01-11T00:00:00Z"), reason: .devicePaused))
    }

    @Test func quietHoursBeforeCaps() throws {
        var gate = try gate(caps: SendCaps(hourly: 1))
        gate.recordSend(at: lateEvening.addingTimeInterval(-30 * 60))  // 21:30 local
        #expect(gate.decide(phone: phone, now: lateEvening)
            == .wait(until: Fixture.date("2026-01-11T00:00:00Z"), reason: .quietHours))
    }

    @Test func hourlyThenDailyCaps() throws {
        let noon = Fixture.date("2026-01-10T04:00:00Z")  // 12:00 local
        var gate = try gate(caps: SendCaps(hourly: 2, daily: 3))
        #expect(gate.decide(phone: phone, now: noon) == .send)
        gate.recordSend(at: noon)
        gate.recordSend(at: noon.addingTimeInterval(60))
        #expect(gate.decide(phone: phone, now: noon.addingTimeInterval(120))
            == .wait(until: noon.addingTimeInterval(3_600), reason: .hourlyCap))
        gate.recordSend(at: noon.addingTimeInterval(3_600))
        // Daily cap reached at 13:00; midnight falls in quiet hours, so the wait ends at 08:00.
        #expect(gate.decide(phone: phone, now: noon.addingTimeInterval(3_700))
            == .wait(until: Fixture.date("2026-01-11T00:00:00Z"), reason: .dailyCap))
    }

    @Test func warmupUsesFirstSendFromOutside() {
        let policy = DeviceSendPolicy(caps: SendCaps(warmup: Warmup(start: 1, growth: 2)))
        let first = Fixture.date("2026-01-01T09:00:00Z")
        var gate = SendGate(policy: policy, firstSendAt: first)
        let dayOne = Fixture.date("2026-01-02T09:00:00Z")
        gate.recordSend(at: dayOne)
        // Day 1 allows 2, so a second send is fine; a device new today would be capped at 1.
        #expect(gate.decide(phone: phone, now: dayOne.addingTimeInterval(60)) == .send)
        var fresh = SendGate(policy: policy)
        fresh.recordSend(at: dayOne)
        #expect(fresh.decide(phone: phone, now: dayOne.addingTimeInterval(60))
            == .wait(until: Fixture.date("2026-01-03T00:00:00Z"), reason: .dailyCap))
    }

    @Test func reasonsHaveStableRawValues() {
        #expect(HoldReason.allCases.map(\.rawValue) == ["device_paused", "quiet_hours", "hourly_cap", "daily_cap", "throughput_limit", "pair_rate_limit"])
        #expect(SkipReason.allCases.map(\.rawValue) == ["opt_out", "invalid_phone"])
    }
}
