import Foundation

/// Pauses a device after ban-like errors (blocked, quality rating dropped, rate-limited by the
/// provider) instead of hammering it, with a cool-off that grows on repeats.
///
/// Cool-off for the n-th strike: base × multiplier^(n-1), at most `maxCoolOff`
/// (defaults 15 min, ×2, 24 h). Strikes decay: each full `decayAfter` (24 h) without a ban-like
/// error, counted from the end of the last pause (time the device was actually free to send),
/// forgives one strike.
public struct DeviceHealth: Sendable, Equatable {
    public struct Configuration: Sendable, Equatable {
        public var baseCoolOff: TimeInterval
        public var multiplier: Double
        public var maxCoolOff: TimeInterval
        public var decayAfter: TimeInterval

        public init(
            baseCoolOff: TimeInterval = 15 * 60,
            multiplier: Double = 2,
            maxCoolOff: TimeInterval = 24 * 3_600,
            decayAfter: TimeInterval = 24 * 3_600
        ) {
            self.baseCoolOff = baseCoolOff
            self.multiplier = multiplier
            self.maxCoolOff = maxCoolOff
            self.decayAfter = decayAfter
        }
    }

    public var configuration: Configuration
    /// Ban-like errors that still count (before decay at any later instant).
    public private(set) var strikes = 0
    public private(set) var pausedUntil: Date?
    public private(set) var pauseReason: String?
    public private(set) var lastBanLikeAt: Date?
    public private(set) var lastSuccessAt: Date?

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    public func isPaused(at instant: Date) -> Bool {
        pausedUntil.map { instant < $0 } ?? false
    }

    /// Strikes still counting at `instant`, after decay.
    public func strikes(at instant: Date) -> Int {
        guard strikes > 0, let quietSince = quietSince else { return strikes }
        let quiet = instant.timeIntervalSince(quietSince)
        guard configuration.decayAfter > 0, quiet > 0 else { return strikes }
        let forgiven = (quiet / configuration.decayAfter).rounded(.down)
        return forgiven >= Double(strikes) ? 0 : strikes - Int(forgiven)
    }

    /// The cool-off the `strike`-th strike earns.
    public func coolOff(forStrike strike: Int) -> TimeInterval {
        let exponent = Double(max(0, strike - 1))
        let value = configuration.baseCoolOff * pow(max(1, configuration.multiplier), exponent)
        return value.isFinite ? min(configuration.maxCoolOff, value) : configuration.maxCoolOff
    }

    /// Records a ban-like error and pauses the device. Returns the end of the pause.
    @discardableResult
    public mutating func recordBanLike(reason: String, at instant: Date) -> Date {
        strikes = strikes(at: instant) + 1
        lastBanLikeAt = instant
        let until = instant.addingTimeInterval(coolOff(forStrike: strikes))
        // Never shorten a pause already in force.
        if let current = pausedUntil, current > until {
            pauseReason = reason
            return current
        }
        pausedUntil = until
        pauseReason = reason
        return until
    }

    /// Records a successful send; clears an expired pause so status shows the device healthy.
    public mutating func recordSuccess(at instant: Date) {
        lastSuccessAt = instant
        if let until = pausedUntil, instant >= until {
            pausedUntil = nil
            pauseReason = nil
        }
    }

    /// Takes in a pause known from elsewhere (another worker's record of this device): the state of
    /// the later ban-like error wins, and a pause in force is never shortened.
    public mutating func absorb(pausedUntil until: Date, reason: String, strikes: Int, lastBanLikeAt: Date) {
        if let known = self.lastBanLikeAt, known > lastBanLikeAt { return }
        if let known = self.lastBanLikeAt, known == lastBanLikeAt, let current = pausedUntil, current >= until { return }
        self.strikes = max(0, strikes)
        self.lastBanLikeAt = lastBanLikeAt
        if pausedUntil.map({ until > $0 }) ?? true {
            pausedUntil = until
        }
        pauseReason = reason
    }

    /// Operator override: lift the pause now (strikes are kept, so a relapse still escalates).
    public mutating func resume() {
        pausedUntil = nil
        pauseReason = nil
    }

    /// Quiet time starts when the last pause ended, or would have ended if an operator lifted it
    /// early (lifting a pause should not also speed up forgiveness).
    private var quietSince: Date? {
        guard let lastBanLikeAt else { return nil }
        let pauseEnd = lastBanLikeAt.addingTimeInterval(coolOff(forStrike: strikes))
        if let pausedUntil { return max(pausedUntil, pauseEnd) }
        return pauseEnd
    }
}
