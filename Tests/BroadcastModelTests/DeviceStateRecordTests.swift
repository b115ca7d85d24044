import Foundation
import Testing
@testable import BroadcastModel

@Suite struct DeviceStateRecordTests {
    private let t0 = Date(timeIntervalSince1970: 1_780_000_000)

    private func record(_ minutes: [(Int64, Int)], at: Date? = nil) -> DeviceStateRecord {
        DeviceStateRecord(
            deviceId: "dev-1", updatedAt: at ?? t0, writer: "w",
            sendMinutes: minutes.map { .init(minute: $0.0, count: $0.1) })
    }

    @Test func roundTripsEveryMember() throws {
        var state = record([(100, 2), (101, 1)])
        state.firstSendAt = t0.addingTimeInterval(-86_400)
        state.lastSendAt = t0.addingTimeInterval(-3)
        state.pause = .init(until: t0.addingTimeInterval(900), reason: "131031", strikes: 2, lastBanLikeAt: t0)
        state.operatorDecision = .init(status: .retired, at: t0, by: "ops \"night\"")
        let bytes = state.encoded()
        #expect(try DeviceStateRecord.decodeValidated(from: bytes) == state)
        #expect(String(decoding: bytes, as: UTF8.self).contains(#""sendMinutes":[[100,2],[101,1]]"#))
    }

    @Test func mergeTakesTheLargerCountPerMinuteAndIsIdempotent() {
        let a = record([(100, 2), (102, 1)])
        let b = record([(100, 1), (101, 3), (102, 4)], at: t0.addingTimeInterval(1))
        let merged = a.merged(with: b)
        #expect(merged.sendMinutes == [.init(minute: 100, count: 2), .init(minute: 101, count: 3), .init(minute: 102, count: 4)])
        #expect(merged.merged(with: b) == merged)
        #expect(merged.merged(with: a) == merged)
        #expect(b.merged(with: a).sendMinutes == merged.sendMinutes)
    }

    @Test func mergeKeepsTheLatestOperatorDecisionAndPause() {
        var older = record([])
        older.operatorDecision = .init(status: .paused, at: t0, by: "a")
        older.pause = .init(until: t0.addingTimeInterval(600), reason: "131031", strikes: 1, lastBanLikeAt: t0)
        var newer = record([])
        newer.operatorDecision = .init(status: .active, at: t0.addingTimeInterval(5), by: "b")
        newer.pause = .init(until: t0.addingTimeInterval(1_800), reason: "131048", strikes: 2, lastBanLikeAt: t0.addingTimeInterval(60))
        #expect(older.merged(with: newer).operatorStatus == .active)
        #expect(newer.merged(with: older).operatorStatus == .active)
        #expect(newer.merged(with: older).pause?.strikes == 2)
        #expect(older.merged(with: newer).pause?.reason == "131048")
    }

    @Test func sizeStaysBoundedToTheCapWindow() {
        let old = record((1_000..<1_500).map { (Int64($0), 1) })
        let new = record((1_500..<2_700).map { (Int64($0), 1) })
        let merged = old.merged(with: new)
        #expect(merged.sendMinutes.count == DeviceStateRecord.maxSendMinutes)
        #expect(merged.sendMinutes.first?.minute == 2_699 - Int64(DeviceStateRecord.maxSendMinutes) + 1)
        // A day of a send every minute encodes to well under the default 1 MB record limit.
        #expect(record((0..<Int64(DeviceStateRecord.maxSendMinutes)).map { ($0 + 29_000_000, 9) }).encoded().count < 32_000)
    }

    @Test func refusesBadMinutesNamingTheField() {
        for bad in [record([(101, 1), (100, 1)]), record([(100, 0)]), record([(0, 1), (Int64(DeviceStateRecord.maxSendMinutes), 1)])] {
            #expect(throws: RecordError.self) { try DeviceStateRecord.decodeValidated(from: bad.encoded()) }
            do {
                _ = try DeviceStateRecord.decodeValidated(from: bad.encoded())
            } catch {
                #expect(error.fields == ["sendMinutes"])
            }
        }
        #expect(throws: RecordError.self) { try DeviceStateRecord.decodeValidated(from: Array(#"{"schema":"broadcast.device.v1","deviceId":"d","updatedAt":"2026-12-03T09:00:00Z","sendMinutes":[[1,2,3]]}"#.utf8)) }
        #expect(throws: RecordError.self) { try DeviceStateRecord.decodeValidated(from: Array(#"{"schema":"broadcast.status.v1","deviceId":"d","updatedAt":"2026-12-03T09:00:00Z"}"#.utf8)) }
    }

    @Test func parkingRoundTripsAndTheHigherRevisionWins() throws {
        var parked = record([])
        parked.parking = .init(state: .parked, partition: 7, fromOffset: 4_200, wakeAt: t0.addingTimeInterval(28_800), reason: "quiet_hours", revision: 3)
        #expect(try DeviceStateRecord.decodeValidated(from: parked.encoded()) == parked)
        var released = record([], at: t0.addingTimeInterval(-60))
        released.parking = .init(state: .released, partition: 7, fromOffset: 4_900, wakeAt: t0.addingTimeInterval(28_800), reason: "quiet_hours", revision: 4)
        // The revision decides, not the record's time or the order they are read in.
        #expect(parked.merged(with: released).parking?.state == .released)
        #expect(released.merged(with: parked).parking?.state == .released)
        #expect(released.merged(with: parked).merged(with: parked) == released.merged(with: parked))
        #expect(record([]).merged(with: parked).parking == parked.parking)
    }

    @Test func refusesABadParkingNamingTheField() {
        var bad = record([])
        bad.parking = .init(state: .parked, partition: -1, fromOffset: 10, wakeAt: t0, reason: "quiet_hours", revision: 0)
        do {
            _ = try DeviceStateRecord.decodeValidated(from: bad.encoded())
            Issue.record("a negative partition was accepted")
        } catch {
            #expect(error.fields == ["parking.partition"])
        }
        let missing = #"{"schema":"broadcast.device.v1","deviceId":"d","updatedAt":"2026-12-03T09:00:00Z","parking":{"state":"parked","partition":1,"wakeAt":"2026-12-03T10:00:00Z","reason":"scheduled","revision":0}}"#
        do {
            _ = try DeviceStateRecord.decodeValidated(from: Array(missing.utf8))
            Issue.record("a parking without fromOffset was accepted")
        } catch {
            #expect(error.fields == ["parking.fromOffset"])
        }
    }
}
