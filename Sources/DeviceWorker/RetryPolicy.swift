/// Retries of one message inside its lane: exponential backoff with *equal jitter*
/// (half the backoff fixed, half random), so delays never collapse to ~0 like full jitter can,
/// and retries of many devices failing together still spread out. A sender's retry-after is a floor.
public struct RetryPolicy: Sendable, Equatable {
    /// Total attempts including the first; after the last one the message is `failed`.
    public var maxAttempts: Int
    public var baseDelay: Double
    public var multiplier: Double
    /// Cap of the exponential part. A larger retry-after from the sender is still honoured.
    public var maxDelay: Double

    public init(maxAttempts: Int = 5, baseDelay: Double = 1, multiplier: Double = 2, maxDelay: Double = 300) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.multiplier = multiplier
        self.maxDelay = maxDelay
    }

    /// `min(maxDelay, baseDelay * multiplier^(attempt - 1))`, computed without overflow.
    public func backoffCeiling(afterAttempt attempt: Int) -> Double {
        let cap = maxDelay.isFinite ? Swift.max(0, maxDelay) : 0
        var delay = baseDelay.isFinite ? Swift.max(0, baseDelay) : 0
        let factor = multiplier.isFinite ? Swift.max(1, multiplier) : 1
        var step = 1
        while step < attempt, delay < cap {
            delay *= factor
            step += 1
        }
        return Swift.min(delay, cap)
    }

    /// Delay before the next attempt, given that `attempt` (1-based) just failed retryably;
    /// nil when `attempt >= maxAttempts` (give up: the message is `failed`).
    /// Result is in `[ceiling / 2, ceiling]`, raised to `retryAfter` when that is larger.
    public func nextDelay(
        afterAttempt attempt: Int,
        retryAfter: Double?,
        using rng: inout some RandomNumberGenerator
    ) -> Double? {
        guard attempt < maxAttempts else { return nil }
        let half = backoffCeiling(afterAttempt: Swift.max(1, attempt)) / 2
        let jittered = half > 0 ? half + Double.random(in: 0...half, using: &rng) : 0
        guard let retryAfter, retryAfter.isFinite else { return jittered }
        return Swift.max(jittered, retryAfter)
    }
}
