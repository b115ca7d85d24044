import BroadcastModel
import DevicePolicies
import Foundation
import Kafka
import WorkerRuntime

/// A test's journal around the real follower: every call goes to it unless the test's type says
/// otherwise (withholding the state, holding a write back).
protocol FollowerJournal: DeviceStateJournal {
    var follower: DeviceStateFollower { get }
}

extension FollowerJournal {
    func record(for deviceId: String) -> ProducerRecord? { follower.record(for: deviceId) }
    func recordBeforeSending(_ message: BroadcastMessage, at: Date) -> ProducerRecord? { follower.recordBeforeSending(message, at: at) }
    func lastSend(of deviceId: String) -> Date? { follower.lastSend(of: deviceId) }
    func catchUp(timeout: Duration) -> Bool { follower.catchUp(timeout: timeout) }
    var isCurrent: Bool { follower.isCurrent }
    func parking(of deviceId: String) -> DeviceStateRecord.Parking? { follower.parking(of: deviceId) }
    func setParking(_ parking: DeviceStateRecord.Parking, for deviceId: String) -> DeviceStateRecord.Parking {
        follower.setParking(parking, for: deviceId)
    }
    func parkedDevices(on partition: Int32) -> [(deviceId: String, parking: DeviceStateRecord.Parking)] {
        follower.parkedDevices(on: partition)
    }
    func healthiestDevice(of candidates: [String], excluding: String, at: Date) -> String? {
        follower.healthiestDevice(of: candidates, excluding: excluding, at: at)
    }
    func admit(
        _ message: BroadcastMessage, now: Date, write: @escaping @Sendable (ProducerRecord) async -> Bool
    ) async -> (until: Date, reason: String)? {
        await follower.admit(message, now: now, write: write)
    }
}
