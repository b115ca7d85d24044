import BroadcastModel
import Foundation

/// Seconds since the worker started, as the lane scheduler wants them, and conversions from wall time.
struct MonotonicClock: Sendable {
    private let origin = ContinuousClock.now

    var now: Double { (ContinuousClock.now - origin).seconds }

    /// A wall-clock instant on this clock (for `scheduledAt`, `expiresAt`, hold ends).
    func instant(of date: Date) -> Double {
        now + date.timeIntervalSinceNow
    }
}
