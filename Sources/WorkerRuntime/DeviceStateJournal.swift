import BroadcastModel
import Foundation
import Kafka
import Synchronization

/// Where the worker keeps each device's safety state beyond its own memory (the compacted
/// `broadcast.devices` topic), so caps, warm-up, pauses and pacing survive hand-overs.
///
/// The worker writes a device's record at each commit for the devices that sent since the one
/// before (and at once for a pause or a parking), and commits only once those records are
/// acknowledged, so the state never lags behind the committed offsets. On every assignment it waits
/// for the journal to have read all records written before, so the first send of a taken-over
/// device knows its history.
public protocol DeviceStateJournal: Sendable {
    /// The device's record to write now; nil when there is nothing to keep.
    func record(for deviceId: String) -> ProducerRecord?
    /// For a device whose caps count sends: counts the send about to be made and returns the
    /// record to write, and have acknowledged, before making it; nil when the device needs none.
    func recordBeforeSending(_ message: BroadcastMessage, at: Date) -> ProducerRecord?
    /// The device's latest send known from the state (any worker's), for pacing a lane taken over.
    func lastSend(of deviceId: String) -> Date?
    /// Blocks the calling thread (the consumer's, during an assignment) until every record written
    /// before the call is read, or `timeout` passes; returns whether it got there. When it did not,
    /// the journal keeps sends held until it has.
    func catchUp(timeout: Duration) -> Bool
    /// Whether every record written before the latest `catchUp` has been read (true once a
    /// catch-up that timed out has caught up after all).
    var isCurrent: Bool { get }
    /// The device's parking as last written or read.
    func parking(of deviceId: String) -> DeviceStateRecord.Parking?
    /// Sets the device's parking for its next record (`record(for:)`); returns it with its revision.
    @discardableResult
    func setParking(_ parking: DeviceStateRecord.Parking, for deviceId: String) -> DeviceStateRecord.Parking
    /// Devices parked on a partition of the messages topic (read on assignment, after `catchUp`).
    func parkedDevices(on partition: Int32) -> [(deviceId: String, parking: DeviceStateRecord.Parking)]
    /// The healthiest of `candidates` other than `excluding` to take over a paused device's
    /// messages (not paused, retired, cooling off or unreadable; fewest strikes, then fewest sends
    /// in the last hour); nil when none is fit.
    func healthiestDevice(of candidates: [String], excluding: String, at: Date) -> String?
    /// Admits a send under a limit the device shares with other devices and workers (a business's
    /// unique recipients per 24 hours), writing what it needs through `write` (true once Kafka
    /// acknowledged it). nil: the send goes now; otherwise it waits until then, for that reason.
    func admit(
        _ message: BroadcastMessage, now: Date, write: @escaping @Sendable (ProducerRecord) async -> Bool
    ) async -> (until: Date, reason: String)?
}

/// Why a send waits on the device state itself (hold reasons in status events and logs). Each
/// re-checks within seconds, so none of them parks a device.
public enum DeviceStateHoldReason {
    /// The state is not read to its end yet (after an assignment), or parked devices are not adopted yet.
    public static let loading = "device_state_loading"
    /// A record of the device could not be read.
    public static let unreadable = "device_state_unreadable"
    /// The count ahead of a capped send could not be written (only while stopping).
    public static let write = "device_state_write"
    public static let all: Set<String> = [loading, unreadable, write]
}

/// Why a send waits on a budget it shares with other numbers (see `DeviceStateJournal.admit`).
public enum BudgetHoldReason {
    /// The business's unique recipients of the last 24 hours are at its limit: the send waits until
    /// one leaves the window (announced with a `retrying` status; long enough to park the device).
    public static let exhausted = "business_budget"
    /// The claim's verdict did not arrive in time (Kafka slow or down): asked again within seconds.
    public static let unknown = "business_budget_unknown"
}

/// Counts the acknowledgements one finished record waits for and reports once, with whether all
/// of them arrived.
final class AcknowledgementJoin: Sendable {
    private let state: Mutex<(remaining: Int, allAcknowledged: Bool)>
    private let done: @Sendable (Bool) -> Void

    init(expecting count: Int, done: @escaping @Sendable (Bool) -> Void) {
        state = Mutex((count, true))
        self.done = done
    }

    func settle(_ acknowledged: Bool) {
        let finished = state.withLock { state -> Bool? in
            state.remaining -= 1
            state.allAcknowledged = state.allAcknowledged && acknowledged
            return state.remaining == 0 ? state.allAcknowledged : nil
        }
        if let finished { done(finished) }
    }
}
