import AntiSpam
import BroadcastModel
import DevicePolicies
import Foundation
import Testing
import WorkerRuntime

@Suite("Device state carried between workers (broadcast.devices records)")
struct DeviceStatePolicyTests {
    /// 10:00 in Kuala Lumpur: inside the send window of the "kl" profile (2 sends an hour).
    let daytime = Fixture.at("2025-03-10T02:00:00Z")

    @Test("a new owner that takes the record in is capped by the previous owner's sends")
    func capsCarryOver() throws {
        let previous = try Fixture.policy()
        for minute in 0..<2 {
            let at = daytime.addingTimeInterval(Double(minute) * 60)
            #expect(previous.decide(Fixture.message(id: "m-\(minute)"), attempt: 0, now: at).outgoing != nil)
            previous.didSend(Fixture.message(id: "m-\(minute)"), at: at)
        }
        let record = try #require(previous.stateRecord(of: "kl", writer: "a", at: daytime.addingTimeInterval(120)))
        #expect(record.sendMinutes.map(\.count).reduce(0, +) == 2)
        #expect(record.lastSendAt == daytime.addingTimeInterval(60))

        let next = try Fixture.policy()
        let later = daytime.addingTimeInterval(300)
        #expect(next.decide(Fixture.message(id: "m-2"), attempt: 0, now: later).outgoing != nil, "without the record it would send")
        let taker = try Fixture.policy()
        taker.absorb(try DeviceStateRecord.decodeValidated(from: record.encoded()))
        taker.absorb(record)  // read twice (its own echo, a replay): counted once
        let decision = taker.decide(Fixture.message(id: "m-2"), attempt: 0, now: later)
        #expect(decision.holdReason == "hourly_cap")
        #expect(taker.lastSend(of: "kl") == daytime.addingTimeInterval(60))
        #expect(taker.status(of: "kl")?.firstSendAt == daytime)
    }

    @Test("a pause after a ban-like error and its strikes carry over")
    func pauseCarriesOver() throws {
        let previous = try Fixture.policy()
        _ = previous.decide(Fixture.message(), attempt: 0, now: daytime)
        let until = try #require(previous.didFail(Fixture.message(), failure: Fixture.banLike, at: daytime))
        let record = try #require(previous.stateRecord(of: "kl", writer: "a", at: daytime))
        let taker = try Fixture.policy()
        taker.absorb(record)
        #expect(taker.decide(Fixture.message(), attempt: 0, now: daytime.addingTimeInterval(60)) == .hold(until: until, reason: "device_paused"))
        #expect(taker.status(of: "kl", at: daytime.addingTimeInterval(60))?.strikes == 1)
        // The next ban-like error on the new owner escalates from there.
        let second = try #require(taker.didFail(Fixture.message(), failure: Fixture.banLike, at: until.addingTimeInterval(1)))
        #expect(second.timeIntervalSince(until) > 15 * 60)
    }

    @Test("operator decisions: paused holds, retired skips, the latest decision wins")
    func operatorDecisions() throws {
        let policy = try Fixture.policy()
        var record = DeviceStateRecord(deviceId: "kl", updatedAt: daytime, writer: "ops")
        record.operatorDecision = .init(status: .paused, at: daytime, by: "ops")
        policy.absorb(record)
        #expect(policy.decide(Fixture.message(), attempt: 0, now: daytime).holdReason == AntiSpamPolicy.DeviceStateHold.operatorPaused)
        record.operatorDecision = .init(status: .retired, at: daytime.addingTimeInterval(10), by: "ops")
        policy.absorb(record)
        #expect(policy.decide(Fixture.message(), attempt: 0, now: daytime) == .skip(reason: "device_retired"))
        // An older decision read late changes nothing.
        record.operatorDecision = .init(status: .active, at: daytime.addingTimeInterval(5), by: "late")
        policy.absorb(record)
        #expect(policy.decide(Fixture.message(), attempt: 0, now: daytime) == .skip(reason: "device_retired"))
        record.operatorDecision = .init(status: .active, at: daytime.addingTimeInterval(20), by: "ops")
        policy.absorb(record)
        #expect(policy.decide(Fixture.message(), attempt: 0, now: daytime).outgoing != nil)
    }

    @Test("the healthiest device of a pool: none paused, retired, cooling off or unreadable; fewest strikes, then fewest sends")
    func healthiestDevice() throws {
        let policy = try Fixture.policy()
        let minute = DeviceStateRecord.minute(of: daytime)
        var cooling = DeviceStateRecord(deviceId: "cooling", updatedAt: daytime, writer: "w")
        cooling.pause = .init(until: daytime.addingTimeInterval(600), reason: "131048", strikes: 1, lastBanLikeAt: daytime)
        var paused = DeviceStateRecord(deviceId: "paused", updatedAt: daytime, writer: "w")
        paused.operatorDecision = .init(status: .paused, at: daytime, by: "ops")
        var struck = DeviceStateRecord(deviceId: "struck", updatedAt: daytime, writer: "w")
        struck.pause = .init(until: daytime.addingTimeInterval(-60), reason: "131048", strikes: 2, lastBanLikeAt: daytime.addingTimeInterval(-1_000))
        let busy = DeviceStateRecord(deviceId: "busy", updatedAt: daytime, writer: "w", sendMinutes: [.init(minute: minute - 1, count: 5)])
        for record in [cooling, paused, struck, busy] { policy.absorb(record) }
        policy.markStateUnreadable("unreadable")
        let pool = ["banned", "cooling", "paused", "unreadable", "struck", "busy", "fresh"]
        #expect(policy.healthiestDevice(of: pool, excluding: "banned", at: daytime) == "fresh")
        #expect(policy.healthiestDevice(of: pool.filter { $0 != "fresh" }, excluding: "banned", at: daytime) == "busy")
        #expect(policy.healthiestDevice(of: ["struck", "cooling"], excluding: "banned", at: daytime) == "struck")
        #expect(policy.healthiestDevice(of: ["cooling", "paused", "unreadable", "banned"], excluding: "banned", at: daytime) == nil)
    }

    @Test("an unreadable record holds the device until a readable one arrives; loading holds every device")
    func unreadableAndLoading() throws {
        let policy = try Fixture.policy()
        policy.markStateUnreadable("kl")
        #expect(policy.decide(Fixture.message(), attempt: 0, now: daytime).holdReason == AntiSpamPolicy.DeviceStateHold.unreadable)
        policy.absorb(DeviceStateRecord(deviceId: "kl", updatedAt: daytime, writer: "w"))
        #expect(policy.decide(Fixture.message(), attempt: 0, now: daytime).outgoing != nil)
        policy.setDeviceStateCurrent(false)
        #expect(policy.decide(Fixture.message(device: "other"), attempt: 0, now: daytime).holdReason == AntiSpamPolicy.DeviceStateHold.loading)
        policy.setDeviceStateCurrent(true)
        #expect(policy.decide(Fixture.message(device: "other"), attempt: 0, now: daytime).outgoing != nil)
    }
}
