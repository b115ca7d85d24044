/// A record handed to the runtime to send: the head of one device lane, now in flight.
public struct Dispatch<Payload: Sendable>: Sendable {
    public let partition: Int32
    public let offset: Int64
    public let device: String
    public let payload: Payload
    /// 1 for the first attempt; +1 after each `.retry` (holds do not count).
    public let attempt: Int
}

extension Dispatch: Equatable where Payload: Equatable {}

/// A record leaving the scheduler without being dispatched-and-completed (see `revoke`).
public struct LaneRecord<Payload: Sendable>: Sendable {
    public let partition: Int32
    public let offset: Int64
    public let device: String
    public let payload: Payload
}

extension LaneRecord: Equatable where Payload: Equatable {}

/// What happened to an in-flight head; passed to `LaneScheduler.complete`.
public enum LaneOutcome: Sendable, Equatable {
    /// The message is finished and the lane advances. `sent: true` when it actually reached the
    /// sender (the next message's gap counts from now); `false` for skipped, expired, failed
    /// before sending or dead-lettered: no pacing gap is consumed.
    case done(sent: Bool)
    /// Retryable failure: the head stays and is re-dispatched after `seconds` (and pacing),
    /// with `attempt + 1`. Use `RetryPolicy` to choose `seconds`.
    case retry(after: Double)
    /// Like `retry`, after an attempt that may have reached the recipient (it timed out): the
    /// attempt counts as a send, so the retry also waits for the device's next paced gap.
    case retryAfterUnknownOutcome(after: Double)
    /// Not now (hourly/daily cap, quiet hours, paused device): the head stays until `until`
    /// (monotonic seconds; `.infinity` = until `releaseHold`). The attempt count is unchanged.
    case hold(until: Double, reason: String)

    /// Sent through the sender.
    public static var sent: LaneOutcome { .done(sent: true) }
    /// Finished without a send (skipped / expired / failed before sending / dead-lettered).
    public static var skipped: LaneOutcome { .done(sent: false) }
}

/// What `complete` did, so the runtime knows what to tell the offset tracker.
public enum CompletionResult: Sendable, Equatable {
    /// The record left its lane finished: mark it done in its partition's `OffsetTracker` once its
    /// status event is acknowledged.
    case finished(partition: Int32, offset: Int64)
    /// The record stays at the head of its lane, due again at `until` (may be `.infinity`).
    case waiting(until: Double)
    /// Its partition was revoked while it was in flight and it did not finish: it is dropped
    /// (not done; the partition's next owner processes it).
    case abandoned(partition: Int32, offset: Int64)
}

/// Why a lane is waiting (the largest of its constraints wins, holds first on ties).
public enum WaitReason: Sendable, Equatable {
    case pacing
    case scheduled
    case retry
    case hold(String)
}

public enum LaneState: Sendable, Equatable {
    /// No records; the pacer remembers the last send.
    case idle
    case waiting(until: Double, reason: WaitReason)
    case inFlight
}

/// Records removed by `LaneScheduler.revoke`.
public struct Revocation<Payload: Sendable>: Sendable {
    /// Queued records that were never sent (or were waiting to retry): not done, forget them.
    public var dropped: [LaneRecord<Payload>] = []
    /// Records being sent right now. Their lanes keep them (so the device gets no second send)
    /// until the runtime calls `complete` for each; wait for those before the final commit.
    public var inFlight: [LaneRecord<Payload>] = []

    public init() {}
}

public enum LaneSchedulerError: Error, Equatable, CustomStringConvertible {
    case notInFlight(device: String)

    public var description: String {
        switch self {
        case let .notInFlight(device):
            "complete(device: \"\(device)\") but that device has no message in flight: call complete exactly once per Dispatch returned by takeDue"
        }
    }
}
