import Foundation

/// A provider's hard limits on one number. Exceeding them gets messages refused (and, repeated,
/// the number flagged), so the worker waits instead of sending.
public struct ProviderLimits: Sendable, Equatable {
    /// Messages a second the number may send (a token bucket holding one second's worth); nil: no limit.
    public var messagesPerSecond: Double?
    /// The shortest time between two messages to the same phone; nil: no limit.
    public var samePhoneGap: TimeInterval?

    public init(messagesPerSecond: Double? = nil, samePhoneGap: TimeInterval? = nil) {
        self.messagesPerSecond = messagesPerSecond
        self.samePhoneGap = samePhoneGap
    }
}

/// A token bucket: `rate` tokens a second, at most `capacity` saved up; a send takes one.
public struct TokenBucket: Sendable, Equatable {
    public let rate: Double
    public let capacity: Double
    private var tokens: Double
    private var updatedAt: Date?

    public init(rate: Double, capacity: Double? = nil) {
        self.rate = max(rate, .leastNonzeroMagnitude)
        self.capacity = max(1, capacity ?? rate)
        tokens = self.capacity
    }

    private func available(at instant: Date) -> Double {
        guard let updatedAt else { return tokens }
        return min(capacity, tokens + max(0, instant.timeIntervalSince(updatedAt)) * rate)
    }

    /// nil when a token is there at `instant`; otherwise when the next one is.
    public func nextToken(at instant: Date) -> Date? {
        let have = available(at: instant)
        guard have < 1 else { return nil }
        return instant.addingTimeInterval((1 - have) / rate)
    }

    public mutating func take(at instant: Date) {
        tokens = available(at: instant) - 1
        updatedAt = instant
    }
}

/// The latest send to each phone within the provider's same-phone gap; older entries are dropped.
public struct RecentRecipients: Sendable, Equatable {
    private var lastSend: [String: Date] = [:]
    private var pruneAt = 1_024

    public init() {}

    public func nextAllowed(to phone: String, gap: TimeInterval, at instant: Date) -> Date? {
        guard let last = lastSend[phone] else { return nil }
        let allowed = last.addingTimeInterval(gap)
        return allowed > instant ? allowed : nil
    }

    public mutating func record(_ phone: String, at instant: Date, gap: TimeInterval) {
        lastSend[phone] = instant
        // Bounded by the recipients of one gap: prune when the map doubles.
        if lastSend.count >= pruneAt {
            lastSend = lastSend.filter { instant.timeIntervalSince($0.value) < gap }
            pruneAt = max(1_024, lastSend.count * 2)
        }
    }
}
