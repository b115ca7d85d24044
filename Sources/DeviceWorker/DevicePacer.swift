/// Paces one device: the next send happens no earlier than the previous send plus a gap drawn
/// uniformly from the *next* message's `[minDelay, maxDelay]`, and no earlier than its `notBefore`.
///
/// Time is `Double` seconds of a monotonic clock (see `LaneScheduler`). The gap is drawn once per
/// message and kept until that message leaves, so re-evaluating (after a retry, a hold or a
/// takeover) never re-rolls it.
public struct DevicePacer: Sendable, Equatable {
    /// When the device last sent, or nil if this pacer never saw a send (then no gap applies).
    public private(set) var lastSendAt: Double?
    /// The gap drawn for the message currently at the head, if already drawn.
    public private(set) var pendingGap: Double?

    public init(lastSendAt: Double? = nil) {
        self.lastSendAt = lastSendAt
    }

    /// A pacer for a device this worker just took over (rebalance, restart): we cannot know when
    /// the previous owner last sent, so we behave as if it sent right now and delays hold across
    /// hand-overs.
    public static func takenOver(at now: Double) -> DevicePacer {
        DevicePacer(lastSendAt: now)
    }

    /// Re-applies takeover semantics to an existing pacer; keeps an already drawn gap.
    public mutating func takeOver(at now: Double) {
        lastSendAt = Swift.max(lastSendAt ?? now, now)
    }

    /// `lastSendAt + gap` for the head message, drawing the gap on first use; nil if never sent.
    public mutating func pacedAt(
        minDelay: Double,
        maxDelay: Double,
        using rng: inout some RandomNumberGenerator
    ) -> Double? {
        guard let lastSendAt else { return nil }
        let gap = pendingGap ?? Self.drawGap(minDelay: minDelay, maxDelay: maxDelay, using: &rng)
        pendingGap = gap
        return lastSendAt + gap
    }

    /// Earliest instant the head message may be sent: `max(lastSendAt + gap, notBefore)`;
    /// `-infinity` when nothing constrains it.
    public mutating func earliestSend(
        minDelay: Double,
        maxDelay: Double,
        notBefore: Double?,
        using rng: inout some RandomNumberGenerator
    ) -> Double {
        let paced = pacedAt(minDelay: minDelay, maxDelay: maxDelay, using: &rng) ?? -.infinity
        return Swift.max(paced, notBefore ?? -.infinity)
    }

    /// The head message was actually sent at `instant`: it becomes the reference for the next gap.
    public mutating func recordSend(at instant: Double) {
        lastSendAt = instant
        pendingGap = nil
    }

    /// The head message left without being sent (skipped, expired, failed before sending): it
    /// consumes no gap, so the previous send stays the reference and the next message draws anew.
    public mutating func discardDraw() {
        pendingGap = nil
    }

    /// Uniform in `[min, max]`; tolerates swapped, negative or non-finite bounds (treated as 0)
    /// because `Double.random(in:)` traps on invalid ranges and one bad record must not crash a worker.
    static func drawGap(minDelay: Double, maxDelay: Double, using rng: inout some RandomNumberGenerator) -> Double {
        let a = minDelay.isFinite ? Swift.max(0, minDelay) : 0
        let b = maxDelay.isFinite ? Swift.max(0, maxDelay) : 0
        let low = Swift.min(a, b)
        let high = Swift.max(a, b)
        return low == high ? low : Double.random(in: low...high, using: &rng)
    }
}
