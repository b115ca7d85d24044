import Foundation
import Testing
@testable import AntiSpam

@Suite struct SendCapsTests {
    @Test func warmupArithmetic() {
        let caps = SendCaps(daily: 40, warmup: Warmup(start: 20, growth: 1.5))
        #expect(caps.dailyLimit(onDay: 0) == 20)
        #expect(caps.dailyLimit(onDay: 1) == 30)
        #expect(caps.dailyLimit(onDay: 2) == 40)  // floor(45) capped by daily 40
        #expect(caps.dailyLimit(onDay: 30) == 40)
        #expect(SendCaps(warmup: Warmup(start: 10, growth: 1.3)).dailyLimit(onDay: 2) == 16)  // floor(16.9)
        #expect(SendCaps(warmup: Warmup(start: 10, growth: 2)).dailyLimit(onDay: 5_000) == Int.max)
        #expect(SendCaps(daily: 100).dailyLimit(onDay: 0) == 100)
        #expect(SendCaps(hourly: 5).dailyLimit(onDay: 0) == nil)
    }

    @Test func validationNamesTheBadValue() {
        #expect(throws: SendPolicyError.capNotPositive(name: "hourly", value: 0)) { try SendCaps(hourly: 0).validate() }
        #expect(throws: SendPolicyError.warmupGrowthInvalid(0.5)) { try SendCaps(warmup: Warmup(start: 5, growth: 0.5)).validate() }
        #expect(throws: SendPolicyError.warmupStartNotPositive(0)) { try SendCaps(warmup: Warmup(start: 0, growth: 2)).validate() }
        #expect(throws: Never.self) { try SendCaps(hourly: 10, daily: 100, warmup: Warmup(start: 20, growth: 1.5)).validate() }
        #expect(SendPolicyError.capNotPositive(name: "daily", value: -1).description.contains("daily cap is -1"))
    }
}

@Suite struct SendLedgerTests {
    let kl = Fixture.kualaLumpur

    @Test func warmupDaysCountInDeviceTimeZone() {
        // 23:30 and 00:30 local are one hour apart but on different local days: day 0 then day 1.
        let caps = SendCaps(warmup: Warmup(start: 1, growth: 2))
        var ledger = SendLedger()
        let first = Fixture.date("2026-01-10T15:30:00Z")  // 23:30 in KL
        ledger.record(at: first)
        let sameDay = Fixture.date("2026-01-10T15:45:00Z")
        #expect(ledger.nextAllowedSend(at: sameDay, caps: caps, timeZone: kl, firstSendAt: nil)
            == Fixture.date("2026-01-10T16:00:00Z"))  // KL midnight
        let nextDay = Fixture.date("2026-01-10T16:30:00Z")  // 00:30 in KL, day 1: limit 2
        #expect(ledger.nextAllowedSend(at: nextDay, caps: caps, timeZone: kl, firstSendAt: nil) == nil)
        // The same instants in UTC are one day: day 0, limit 1, blocked until UTC midnight.
        #expect(ledger.nextAllowedSend(at: nextDay, caps: caps, timeZone: Fixture.utc, firstSendAt: nil)
            == Fixture.date("2026-01-11T00:00:00Z"))
    }

    @Test func warmupDayTwoAndCapReached() {
        let caps = SendCaps(daily: 5, warmup: Warmup(start: 2, growth: 2))
        let firstSendAt = Fixture.date("2026-01-01T02:00:00Z")  // day 0 in KL: 2026-01-01
        var ledger = SendLedger(firstSendAt: firstSendAt)
        let dayTwo = Fixture.date("2026-01-03T01:00:00Z")  // 09:00 KL on day 2: min(5, 8) = 5
        for minute in 0..<5 {
            #expect(ledger.nextAllowedSend(at: dayTwo.addingTimeInterval(Double(minute) * 60), caps: caps, timeZone: kl, firstSendAt: firstSendAt) == nil)
            ledger.record(at: dayTwo.addingTimeInterval(Double(minute) * 60))
        }
        let hold = ledger.hold(at: dayTwo.addingTimeInterval(600), caps: caps, timeZone: kl, firstSendAt: firstSendAt)
        #expect(hold == CapHold(until: Fixture.date("2026-01-03T16:00:00Z"), kind: .daily))
    }

    @Test func rollingHourlyNextAllowedInstant() {
        let caps = SendCaps(hourly: 3)
        var ledger = SendLedger()
        let t0 = Fixture.date("2026-01-10T10:00:00Z")
        for minutes in [0.0, 10, 20] { ledger.record(at: t0.addingTimeInterval(minutes * 60)) }
        let now = t0.addingTimeInterval(30 * 60)
        #expect(ledger.hold(at: now, caps: caps, timeZone: kl, firstSendAt: nil) == CapHold(until: t0.addingTimeInterval(3_600), kind: .hourly))
        // The send at 10:00 ages out at exactly 11:00.
        #expect(ledger.nextAllowedSend(at: t0.addingTimeInterval(3_600), caps: caps, timeZone: kl, firstSendAt: nil) == nil)
        ledger.record(at: t0.addingTimeInterval(3_600))
        #expect(ledger.nextAllowedSend(at: t0.addingTimeInterval(3_900), caps: caps, timeZone: kl, firstSendAt: nil)
            == t0.addingTimeInterval(70 * 60))
        #expect(ledger.sendsInLastHour(at: t0.addingTimeInterval(3_900)) == 3)
    }

    @Test func newDayStillRespectsRollingHour() {
        // Daily full at 23:50 UTC; midnight frees the day but the hour still holds two late sends.
        let caps = SendCaps(hourly: 2, daily: 3)
        var ledger = SendLedger()
        for time in ["2026-01-10T23:20:00Z", "2026-01-10T23:40:00Z", "2026-01-10T23:50:00Z"] {
            ledger.record(at: Fixture.date(time))
        }
        let hold = ledger.hold(at: Fixture.date("2026-01-10T23:55:00Z"), caps: caps, timeZone: Fixture.utc, firstSendAt: nil)
        #expect(hold == CapHold(until: Fixture.date("2026-01-11T00:40:00Z"), kind: .daily))
    }

    @Test func memoryIsBoundedByRetention() {
        var ledger = SendLedger()
        let t0 = Fixture.date("2026-01-10T00:00:00Z")
        for minute in stride(from: 0, to: 60 * 72, by: 5) {
            ledger.record(at: t0.addingTimeInterval(Double(minute) * 60))
        }
        #expect(ledger.sends.count <= Int(SendLedger.retention / 300) + 1)
        #expect(ledger.firstSendAt == t0)
    }

    @Test func noCapsMeansNoWait() {
        var ledger = SendLedger()
        let t0 = Fixture.date("2026-01-10T00:00:00Z")
        for second in 0..<100 { ledger.record(at: t0.addingTimeInterval(Double(second))) }
        #expect(ledger.nextAllowedSend(at: t0.addingTimeInterval(100), caps: .unlimited, timeZone: kl, firstSendAt: nil) == nil)
    }
}

@Suite struct SendLedgerAbsorbTests {
    private let t0 = Date(timeIntervalSince1970: 1_780_000_020)

    @Test func absorbTakesTheLargerCountPerMinute() {
        var ledger = SendLedger()
        ledger.record(at: t0)
        let minute = Int64((t0.timeIntervalSince1970 / 60).rounded(.down))
        ledger.absorb(sendsPerMinute: [(minute, 3), (minute + 1, 1)], firstSendAt: t0.addingTimeInterval(-100), lastSendAt: t0.addingTimeInterval(61))
        #expect(ledger.sends.count == 4)
        #expect(ledger.firstSendAt == t0.addingTimeInterval(-100))
        #expect(ledger.lastSendAt == t0.addingTimeInterval(61))
        ledger.absorb(sendsPerMinute: ledger.sendsPerMinute, firstSendAt: nil, lastSendAt: nil)
        #expect(ledger.sends.count == 4, "its own record read back adds nothing")
        // Restored sends sit at the end of their minute: they count in the hour at least as long as the real ones.
        let caps = SendCaps(hourly: 4)
        let hold = ledger.hold(at: t0.addingTimeInterval(120), caps: caps, timeZone: .gmt, firstSendAt: nil)
        #expect(hold?.kind == .hourly)
        #expect((hold?.until ?? .distantPast) >= t0.addingTimeInterval(3_600))
    }
}

@Suite struct ProviderLimitTests {
    private let t0 = Date(timeIntervalSince1970: 1_780_000_000)

    @Test func tokenBucketAllowsOneSecondsWorthThenTheRate() {
        var bucket = TokenBucket(rate: 4)
        for _ in 0..<4 {
            #expect(bucket.nextToken(at: t0) == nil)
            bucket.take(at: t0)
        }
        #expect(bucket.nextToken(at: t0) == t0.addingTimeInterval(0.25))
        #expect(bucket.nextToken(at: t0.addingTimeInterval(0.25)) == nil)
    }

    @Test func gateHoldsForThroughputAndTheSamePhoneGap() throws {
        let policy = DeviceSendPolicy(providerLimits: ProviderLimits(messagesPerSecond: 1, samePhoneGap: 6))
        var gate = SendGate(policy: policy)
        #expect(gate.decide(phone: "+60123456789", now: t0) == .send)
        gate.recordSend(at: t0, to: "+60123456789")
        #expect(gate.decide(phone: "+60123456789", now: t0.addingTimeInterval(2)) == .wait(until: t0.addingTimeInterval(6), reason: .pairRateLimit))
        #expect(gate.decide(phone: "+60123456780", now: t0.addingTimeInterval(0.5)) == .wait(until: t0.addingTimeInterval(1), reason: .throughputLimit))
        #expect(gate.decide(phone: "+60123456780", now: t0.addingTimeInterval(1)) == .send)
    }
}
