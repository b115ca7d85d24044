import Foundation
import BroadcastModel

/// The one check a device worker makes before each send, combining (in priority order):
/// invalid phone and opt-out (skip), device paused, quiet hours, hourly and daily caps (wait).
///
/// A value type holding one device's anti-spam state; the worker owns it per lane, calls
/// `decide` before a send and `recordSend` after the provider accepts it.
public struct SendGate: Sendable, Equatable {
    public var policy: DeviceSendPolicy
    public var optOut: OptOutList
    public var health: DeviceHealth
    public private(set) var ledger: SendLedger
    private var bucket: TokenBucket?
    private var recipients = RecentRecipients()

    /// - Parameter firstSendAt: the device's first send if known from elsewhere (e.g. restored
    ///   after a restart or hand-over), so warm-up does not start over.
    public init(
        policy: DeviceSendPolicy = DeviceSendPolicy(),
        optOut: OptOutList = OptOutList(),
        health: DeviceHealth = DeviceHealth(),
        firstSendAt: Date? = nil
    ) {
        self.policy = policy
        self.optOut = optOut
        self.health = health
        self.ledger = SendLedger(firstSendAt: firstSendAt)
        bucket = policy.providerLimits.messagesPerSecond.map { TokenBucket(rate: $0) }
    }

    /// The reason is what blocks at `now` (highest priority first); `until` is the earliest
    /// instant when nothing blocks, so one wake-up usually suffices (e.g. a pause ending inside
    /// quiet hours waits for the quiet hours to end). The caller still asks again then.
    public func decide(phone: String, now: Date) -> SendDecision {
        let phone = phone.trimmingCharacters(in: .whitespacesAndNewlines)
        guard PhoneNumber.isE164(phone) else { return .skip(reason: .invalidPhone) }
        if optOut.contains(phone) { return .skip(reason: .optOut) }

        var instant = now
        var reason: HoldReason?
        // Each hold moves `instant` forward; a handful of rounds covers every combination.
        for _ in 0..<8 {
            guard let hold = firstHold(at: instant, phone: phone) else { break }
            reason = reason ?? hold.reason
            instant = hold.until
        }
        guard let reason else { return .send }
        return .wait(until: instant, reason: reason)
    }

    /// Call after a send was handed to the provider (`phone`: its recipient, for the same-phone gap).
    public mutating func recordSend(at instant: Date, to phone: String? = nil) {
        ledger.record(at: instant)
        health.recordSuccess(at: instant)
        bucket?.take(at: instant)
        if let phone, let gap = policy.providerLimits.samePhoneGap {
            recipients.record(phone.trimmingCharacters(in: .whitespacesAndNewlines), at: instant, gap: gap)
        }
    }

    /// Call after a send counted beforehand (``recordSend(at:to:)`` at reservation) was handed over.
    public mutating func recordReservedSendDone(at instant: Date) {
        ledger.noteSent(at: instant)
        health.recordSuccess(at: instant)
    }

    /// Call when the sender reports a ban-like or quality error; returns the end of the pause.
    @discardableResult
    public mutating func recordBanLike(reason: String, at instant: Date) -> Date {
        health.recordBanLike(reason: reason, at: instant)
    }

    /// The device's state as the `broadcast.devices` record keeps it (no operator decision: the
    /// caller keeps that).
    public func stateRecord(deviceId: String, writer: String, at instant: Date) -> DeviceStateRecord {
        var pause: DeviceStateRecord.Pause?
        // Kept after the pause ends: the strikes still count towards the next cool-off.
        if let banLike = health.lastBanLikeAt {
            pause = .init(until: health.pausedUntil ?? banLike, reason: health.pauseReason ?? "ban_like", strikes: health.strikes, lastBanLikeAt: banLike)
        }
        return DeviceStateRecord(
            deviceId: deviceId, updatedAt: instant, writer: writer,
            sendMinutes: ledger.sendsPerMinute.map { .init(minute: $0.minute, count: $0.count) },
            firstSendAt: ledger.firstSendAt, lastSendAt: ledger.lastSendAt, pause: pause)
    }

    /// Takes in a record of this device written elsewhere (see ``SendLedger/absorb(sendsPerMinute:firstSendAt:lastSendAt:)``).
    public mutating func absorb(_ record: DeviceStateRecord) {
        ledger.absorb(
            sendsPerMinute: record.sendMinutes.map { ($0.minute, $0.count) }, firstSendAt: record.firstSendAt,
            lastSendAt: record.lastSendAt)
        if let pause = record.pause {
            health.absorb(pausedUntil: pause.until, reason: pause.reason, strikes: pause.strikes, lastBanLikeAt: pause.lastBanLikeAt)
        }
    }

    private func firstHold(at instant: Date, phone: String) -> (until: Date, reason: HoldReason)? {
        if health.isPaused(at: instant), let until = health.pausedUntil {
            return (until, .devicePaused)
        }
        if let open = policy.quietHours?.nextOpen(after: instant, timeZone: policy.timeZone) {
            return (open, .quietHours)
        }
        if let hold = ledger.hold(at: instant, caps: policy.caps, timeZone: policy.timeZone, firstSendAt: nil) {
            return (hold.until, hold.kind == .daily ? .dailyCap : .hourlyCap)
        }
        if let gap = policy.providerLimits.samePhoneGap, let until = recipients.nextAllowed(to: phone, gap: gap, at: instant) {
            return (until, .pairRateLimit)
        }
        if let until = bucket?.nextToken(at: instant) {
            return (until, .throughputLimit)
        }
        return nil
    }
}
