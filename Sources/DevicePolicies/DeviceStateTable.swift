import AntiSpam
import BroadcastModel
import Foundation
import Synchronization

/// What a device is doing, as last logged; a change is logged once, not per message.
enum DeviceCondition: String, Sendable, Equatable {
    case open, paused, quiet, capped

    init(_ decision: SendDecision) {
        switch decision {
        case .send, .skip: self = .open
        case .wait(_, .devicePaused): self = .paused
        case .wait(_, .quietHours): self = .quiet
        case .wait(_, .hourlyCap), .wait(_, .dailyCap): self = .capped
        // Waits of a second or a few: not worth a log line each.
        case .wait(_, .throughputLimit), .wait(_, .pairRateLimit): self = .open
        }
    }
}

/// One device's anti-spam state.
struct DeviceState: Sendable {
    var gate: SendGate
    var announced: DeviceCondition = .open
    /// The text last handed to the sender and for which message: a retry of that message sends it
    /// again unchanged (a timed-out attempt may have reached the phone).
    var lastRendered: (messageId: String, text: String?)?
    /// The operator's latest decision from `broadcast.devices` (pause, resume, retire).
    var operatorDecision: DeviceStateRecord.OperatorDecision?
    /// A record of this device on `broadcast.devices` could not be read: nothing is sent until a
    /// readable one arrives (it is never taken as "no sends yet").
    var unreadableSince: Date?
    /// The message whose send was counted before it was made (see `AntiSpamPolicy.reserveSend`).
    var reservedFor: String?
    /// Where the device's waiting records are while it is parked (see ``DeviceStateRecord/Parking``).
    var parking: DeviceStateRecord.Parking?

    init(gate: SendGate) {
        self.gate = gate
    }

    /// Records the condition `decision` implies; returns it when it differs from what was logged.
    mutating func note(_ decision: SendDecision) -> DeviceCondition? {
        if case .skip = decision { return nil }
        let condition = DeviceCondition(decision)
        guard condition != announced else { return nil }
        announced = condition
        return condition
    }
}

/// Per-device state behind sharded locks: send tasks of different devices rarely contend, and each
/// critical section is a few comparisons (no rendering, no logging, no I/O under a lock).
final class DeviceStateTable: Sendable {
    private final class Shard: Sendable {
        let devices = Mutex<[String: DeviceState]>([:])
    }

    private let shards: [Shard]

    init(shardCount: Int = 64) {
        shards = (0..<max(1, shardCount)).map { _ in Shard() }
    }

    /// Runs `body` on the device's state, creating it with `make` on first use.
    func withState<R>(_ deviceId: String, make: () -> DeviceState, _ body: (inout DeviceState) -> R) -> R {
        shard(deviceId).devices.withLock { devices in
            var state = devices.removeValue(forKey: deviceId) ?? make()
            defer { devices[deviceId] = state }
            return body(&state)
        }
    }

    /// A copy of the device's state, nil before its first decision.
    func state(of deviceId: String) -> DeviceState? {
        shard(deviceId).devices.withLock { $0[deviceId] }
    }

    /// What `transform` takes from each device's state (nil leaves the device out). Takes each
    /// shard's lock in turn: for rare scans (an assignment), not for the send path.
    func compactMap<T>(_ transform: (String, DeviceState) -> T?) -> [T] {
        var result: [T] = []
        for shard in shards {
            let states = shard.devices.withLock { $0 }
            result += states.compactMap { transform($0.key, $0.value) }
        }
        return result
    }

    private func shard(_ deviceId: String) -> Shard {
        // FNV-1a: cheap and stable (Hasher is seeded per process, which would be fine too).
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in deviceId.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return shards[Int(hash % UInt64(shards.count))]
    }
}
