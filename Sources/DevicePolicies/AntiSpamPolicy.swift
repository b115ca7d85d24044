import AntiSpam
import BroadcastModel
import Foundation
import Logging
import Senders
import Synchronization
import WorkerRuntime

/// The worker's `SendPolicy` over AntiSpam: opt-out, device pauses, quiet hours, caps and rendering,
/// per device. Called concurrently from many send tasks; each device's state sits behind a sharded
/// lock held only for the gate's arithmetic.
public final class AntiSpamPolicy: SendPolicy {
    public struct Configuration: Sendable {
        public var profiles: DeviceProfiles
        /// Cool-off after ban-like errors (defaults: 15 min, doubling, at most 24 h).
        public var health: DeviceHealth.Configuration
        public var missingName: MissingNamePolicy
        /// Skip (reason `unfilled_placeholder`) instead of sending a text that still shows `{key}`.
        /// Off by default: publishers check templates, and texts from other apps may contain braces.
        public var skipUnfilledPlaceholders: Bool

        public init(
            profiles: DeviceProfiles = DeviceProfiles(),
            health: DeviceHealth.Configuration = DeviceHealth.Configuration(),
            missingName: MissingNamePolicy = .localeFallback,
            skipUnfilledPlaceholders: Bool = false
        ) {
            self.profiles = profiles
            self.health = health
            self.missingName = missingName
            self.skipUnfilledPlaceholders = skipUnfilledPlaceholders
        }
    }

    public static let unfilledPlaceholderReason = "unfilled_placeholder"

    public let configuration: Configuration
    public let optOuts: OptOutStore
    /// Contacts' latest replies; a sequence step published before one is skipped (reason `replied`).
    public let replies: ReplyLedger
    private let table = DeviceStateTable()
    private let logger: Logger
    /// False while this worker may not know the latest `broadcast.devices` records (see
    /// ``setDeviceStateCurrent(_:)``): every send holds meanwhile.
    private let deviceStateCurrent = Atomic<Bool>(true)

    /// Hold reasons of the device-state checks (holds are not status events; they show in logs).
    public enum DeviceStateHold {
        public static let operatorPaused = "operator_paused"
        public static let unreadable = DeviceStateHoldReason.unreadable
        public static let loading = DeviceStateHoldReason.loading
    }

    /// Called with a phone the provider reports as opted out (Cloud API 131050), after the phone is
    /// in ``optOuts``: the worker publishes it to the opt-out topic so that every worker knows.
    private let onProviderOptOut: (@Sendable (String) -> Void)?

    public init(
        configuration: Configuration = Configuration(), optOuts: OptOutStore = OptOutStore(),
        logger: Logger = Logger(label: "broadcast.policy"),
        onProviderOptOut: (@Sendable (String) -> Void)? = nil, replies: ReplyLedger = ReplyLedger()
    ) {
        self.configuration = configuration
        self.optOuts = optOuts
        self.replies = replies
        self.logger = logger
        self.onProviderOptOut = onProviderOptOut
    }

    /// Provider error codes that mean "this person asked not to be messaged".
    public static let providerOptOutCodes: Set<String> = ["131050"]

    public func decide(_ message: BroadcastMessage, attempt: Int, now: Date) -> PolicyDecision {
        // Opt-out first: it is final whatever state the device is in.
        if optOuts.contains(message.recipient.phone) {
            return .skip(reason: SkipReason.optOut.rawValue)
        }
        if message.source == .sequence, replies.replied(message.recipient.phone, since: message.createdAt) {
            return .skip(reason: StatusEvent.Reason.replied)
        }
        let device = message.deviceId
        let profile = configuration.profiles.profile(for: device)
        // Read by every send task: an atomic, not a lock they would all queue on.
        if !deviceStateCurrent.load(ordering: .acquiring) {
            return .hold(until: now.addingTimeInterval(1), reason: DeviceStateHold.loading)
        }
        let gated = table.withState(device, make: { makeState(profile) }) { state -> GateOutcome in
            if let decided = Self.stateHold(state, now: now) { return .decided(decided) }
            let decision = state.gate.decide(phone: message.recipient.phone, now: now)
            let rendered = state.lastRendered?.messageId == message.id ? state.lastRendered : nil
            return .gated(decision, change: state.note(decision), rendered: rendered)
        }
        let decision: SendDecision
        let change: DeviceCondition?
        let cached: (messageId: String, text: String?)?
        switch gated {
        case .decided(let decided): return decided
        case let .gated(gate, noted, rendered): (decision, change, cached) = (gate, noted, rendered)
        }
        if let change { log(change, device: device, decision: decision) }

        switch decision {
        case .skip(let reason):
            return .skip(reason: reason.rawValue)
        case .wait(let until, let reason):
            return .hold(until: until, reason: reason.rawValue)
        case .send:
            break
        }
        if message.content.type == .template, let template = message.content.template {
            // Meta's approved text is sent as written: only the parameters are filled, no greeting or spintax.
            let filled = template.filled(name: message.recipient.name, attributes: message.attributes ?? [:])
            if configuration.skipUnfilledPlaceholders, !filled.unfilled.isEmpty {
                return .skip(reason: Self.unfilledPlaceholderReason)
            }
            return .send(OutgoingMessage(
                messageId: message.id, deviceId: device, recipientPhone: message.recipient.phone,
                kind: .template, text: nil, typingDelayMilliseconds: profile.typingDelayMilliseconds,
                template: filled.template
            ))
        }
        let text: String?
        if let cached {
            text = cached.text
        } else {
            let rendered = MessageRendering.render(
                message, policy: profile.sendPolicy, missingName: configuration.missingName, now: now
            )
            if configuration.skipUnfilledPlaceholders, let rendered, !rendered.unfilledPlaceholders.isEmpty {
                return .skip(reason: Self.unfilledPlaceholderReason)
            }
            text = rendered?.text
            table.withState(device, make: { makeState(profile) }) { $0.lastRendered = (message.id, text) }
        }
        return .send(OutgoingMessage(
            messageId: message.id, deviceId: device, recipientPhone: message.recipient.phone,
            kind: message.content.type, text: text, mediaUrl: message.content.mediaUrl,
            fileName: message.content.fileName, typingDelayMilliseconds: profile.typingDelayMilliseconds
        ))
    }

    public func didSend(_ message: BroadcastMessage, at instant: Date) {
        let profile = configuration.profiles.profile(for: message.deviceId)
        table.withState(message.deviceId, make: { makeState(profile) }) { state in
            if state.reservedFor == message.id {
                state.reservedFor = nil
                state.gate.recordReservedSendDone(at: instant)
            } else {
                // The ledger also keeps the device's first send, which starts warm-up.
                state.gate.recordSend(at: instant, to: message.recipient.phone)
            }
            state.lastRendered = nil
        }
    }

    /// For a device whose caps count sends: counts the send of `message` now, before it is made,
    /// so a record written and acknowledged before the send already holds it (a worker killed
    /// during the send cannot hand over a count without it). False when the device has no caps.
    /// A send that then fails still counts: caps err on the side of fewer sends.
    public func reserveSend(_ message: BroadcastMessage, at instant: Date) -> Bool {
        let profile = configuration.profiles.profile(for: message.deviceId)
        guard profile.sendPolicy.caps.countsSends else { return false }
        return table.withState(message.deviceId, make: { makeState(profile) }) { state in
            if state.reservedFor == message.id { return true }  // a retry of the same send: counted once
            state.gate.recordSend(at: instant, to: message.recipient.phone)
            state.reservedFor = message.id
            return true
        }
    }

    public func didFail(_ message: BroadcastMessage, failure: SendFailure, at instant: Date) -> Date? {
        if Self.providerOptOutCodes.contains(failure.code), optOuts.add(message.recipient.phone) {
            logger.info("provider reports the contact opted out", metadata: [
                "device": "\(message.deviceId)", "phone": "\(BroadcastModel.PhoneNumber.masked(message.recipient.phone))", "code": "\(failure.code)",
            ])
            onProviderOptOut?(message.recipient.phone)
        }
        let profile = configuration.profiles.profile(for: message.deviceId)
        return table.withState(message.deviceId, make: { makeState(profile) }) { state in
            if !failure.isRetryable { state.lastRendered = nil }
            guard failure.pausesDevice else { return nil }
            // The worker logs the pause with the error; marking it here keeps decide from logging it again.
            state.announced = .paused
            return state.gate.recordBanLike(reason: failure.code, at: instant)
        }
    }

    /// A device's anti-spam state for status views and tests; nil before its first message.
    public func status(of deviceId: String, at instant: Date = Date()) -> DevicePolicyStatus? {
        table.state(of: deviceId).map { DevicePolicyStatus(state: $0, at: instant) }
    }

    // MARK: Device state shared through `broadcast.devices`

    /// The operator's decision and an unreadable record come before every other check.
    private static func stateHold(_ state: DeviceState, now: Date) -> PolicyDecision? {
        switch state.operatorDecision?.status {
        case .retired?: return .skip(reason: StatusEvent.Reason.deviceRetired)
        case .paused?: return .hold(until: now.addingTimeInterval(2), reason: DeviceStateHold.operatorPaused)
        case .active?, nil: break
        }
        if state.unreadableSince != nil {
            return .hold(until: now.addingTimeInterval(30), reason: DeviceStateHold.unreadable)
        }
        return nil
    }

    /// The device's state as a `broadcast.devices` record; nil for a device this policy never saw.
    public func stateRecord(of deviceId: String, writer: String, at instant: Date = Date()) -> DeviceStateRecord? {
        guard let state = table.state(of: deviceId) else { return nil }
        var record = state.gate.stateRecord(deviceId: deviceId, writer: writer, at: instant)
        record.operatorDecision = state.operatorDecision
        record.parking = state.parking
        return record
    }

    /// The device's parking as last written or read (nil when it was never parked).
    public func parking(of deviceId: String) -> DeviceStateRecord.Parking? {
        table.state(of: deviceId)?.parking
    }

    /// Sets the device's parking, to be written with its next state record. The revision is raised
    /// past the one known, so the change wins every merge.
    @discardableResult
    public func setParking(_ parking: DeviceStateRecord.Parking, for deviceId: String) -> DeviceStateRecord.Parking {
        let profile = configuration.profiles.profile(for: deviceId)
        return table.withState(deviceId, make: { makeState(profile) }) { state in
            var next = parking
            next.revision = max(parking.revision, (state.parking?.revision ?? -1) + 1)
            state.parking = next
            return next
        }
    }

    /// Devices parked on `partition` of the messages topic, as the state read so far says.
    public func parkedDevices(on partition: Int32) -> [(deviceId: String, parking: DeviceStateRecord.Parking)] {
        table.compactMap { device, state in
            guard let parking = state.parking, parking.isParked, parking.partition == partition else { return nil }
            return (device, parking)
        }
    }

    /// Takes in a `broadcast.devices` record (another worker's, an operator's, or this worker's own
    /// echo): merged, so reading it twice or out of order changes nothing.
    public func absorb(_ record: DeviceStateRecord) {
        let profile = configuration.profiles.profile(for: record.deviceId)
        let change = table.withState(record.deviceId, make: { makeState(profile) }) { state -> DeviceStateRecord.OperatorDecision? in
            state.gate.absorb(record)
            state.unreadableSince = nil
            state.parking = DeviceStateRecord.newer(state.parking, record.parking)
            guard let decision = record.operatorDecision, state.operatorDecision.map({ decision.at > $0.at }) ?? true else { return nil }
            state.operatorDecision = decision
            return decision
        }
        if let change {
            logger.info("operator decision for device", metadata: [
                "device": "\(record.deviceId)", "status": "\(change.status.rawValue)", "by": "\(change.by)",
            ])
        }
    }

    /// A record of the device could not be read: it sends nothing until a readable one arrives.
    public func markStateUnreadable(_ deviceId: String, at instant: Date = Date()) {
        let profile = configuration.profiles.profile(for: deviceId)
        table.withState(deviceId, make: { makeState(profile) }) { state in
            if state.unreadableSince == nil { state.unreadableSince = instant }
        }
    }

    /// The healthiest of `candidates` (but `excluding`) as the state read so far says: none paused or
    /// retired by an operator, cooling off, or unreadable; then the fewest strikes, the fewest sends
    /// in the last hour (most room under caps), the id. A device never seen counts as healthy.
    public func healthiestDevice(of candidates: [String], excluding: String, at instant: Date) -> String? {
        var best: (strikes: Int, sends: Int, id: String)?
        for id in candidates where id != excluding {
            let state = table.state(of: id)
            if let state {
                if let decision = state.operatorDecision, decision.status != .active { continue }
                if state.unreadableSince != nil || state.gate.health.isPaused(at: instant) { continue }
            }
            let candidate = (strikes: state?.gate.health.strikes(at: instant) ?? 0,
                             sends: state?.gate.ledger.sendsInLastHour(at: instant) ?? 0, id: id)
            if let current = best, current <= candidate { continue }
            best = candidate
        }
        return best?.id
    }

    /// The device's latest send known here (its own or another worker's), for pacing a lane taken over.
    public func lastSend(of deviceId: String) -> Date? {
        table.state(of: deviceId)?.gate.ledger.lastSendAt
    }

    /// While false, every send holds (reason `device_state_loading`): the worker took partitions
    /// over and has not yet read `broadcast.devices` to where it ended.
    /// Whether `broadcast.devices` has been read to where it ended when last asked.
    public var isDeviceStateCurrent: Bool { deviceStateCurrent.load(ordering: .acquiring) }

    public func setDeviceStateCurrent(_ current: Bool) {
        deviceStateCurrent.store(current, ordering: .releasing)
    }

    private func makeState(_ profile: DeviceProfile) -> DeviceState {
        DeviceState(gate: SendGate(policy: profile.sendPolicy, health: DeviceHealth(configuration: configuration.health)))
    }

    private func log(_ condition: DeviceCondition, device: String, decision: SendDecision) {
        var metadata: Logger.Metadata = ["device": "\(device)"]
        if case .wait(let until, let reason) = decision {
            metadata["until"] = "\(Timestamp.format(until))"
            metadata["reason"] = "\(reason.rawValue)"
        }
        switch condition {
        case .open: logger.info("device sending again", metadata: metadata)
        case .paused: logger.warning("device paused", metadata: metadata)
        case .quiet: logger.info("device in quiet hours", metadata: metadata)
        case .capped: logger.info("device capped", metadata: metadata)
        }
    }
}

/// What one look at a device's state under its lock gives: a decision the device-state checks took
/// before the gate was asked, or the gate's decision with what goes with it.
private enum GateOutcome {
    case decided(PolicyDecision)
    case gated(SendDecision, change: DeviceCondition?, rendered: (messageId: String, text: String?)?)
}

/// A snapshot of one device's anti-spam state.
public struct DevicePolicyStatus: Sendable, Equatable {
    public var pausedUntil: Date?
    public var pauseReason: String?
    public var strikes: Int
    public var sendsInLastHour: Int
    public var firstSendAt: Date?

    init(state: DeviceState, at instant: Date) {
        let health = state.gate.health
        pausedUntil = health.isPaused(at: instant) ? health.pausedUntil : nil
        pauseReason = pausedUntil == nil ? nil : health.pauseReason
        strikes = health.strikes(at: instant)
        sendsInLastHour = state.gate.ledger.sendsInLastHour(at: instant)
        firstSendAt = state.gate.ledger.firstSendAt
    }
}
