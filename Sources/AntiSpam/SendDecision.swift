import Foundation

/// Why a message waits. Raw values are stable: they appear in status events and metrics.
public enum HoldReason: String, Sendable, CaseIterable {
    case devicePaused = "device_paused"
    case quietHours = "quiet_hours"
    case hourlyCap = "hourly_cap"
    case dailyCap = "daily_cap"
    /// The provider's per-number throughput (Cloud API: 80 messages a second by default).
    case throughputLimit = "throughput_limit"
    /// The provider's limit on messages to one phone (Cloud API pair rate limit, 131056).
    case pairRateLimit = "pair_rate_limit"
}

/// Why a message is not sent at all. Raw values are stable: they appear in status events.
public enum SkipReason: String, Sendable, CaseIterable {
    case optOut = "opt_out"
    case invalidPhone = "invalid_phone"
}

/// What the worker does with a message right now.
public enum SendDecision: Sendable, Equatable {
    case send
    /// Delay the message (never drop it) and ask again at `until`.
    case wait(until: Date, reason: HoldReason)
    /// Do not send; report `skipped` with the reason.
    case skip(reason: SkipReason)
}
