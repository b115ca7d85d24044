import Foundation

/// A problem in a device's sending configuration, named so the operator can fix it.
public enum SendPolicyError: Error, Equatable, Sendable, CustomStringConvertible {
    case capNotPositive(name: String, value: Int)
    case warmupStartNotPositive(Int)
    case warmupGrowthInvalid(Double)

    public var description: String {
        switch self {
        case .capNotPositive(let name, let value):
            "\(name) cap is \(value); it must be at least 1 (leave it out for no cap)"
        case .warmupStartNotPositive(let value):
            "warm-up start is \(value) messages per day; it must be at least 1"
        case .warmupGrowthInvalid(let value):
            "warm-up growth is \(value); it must be a finite number ≥ 1 (e.g. 1.5 for +50% a day)"
        }
    }
}

/// Daily volume ramp for a new device: day n (0 = the day of its first send) allows
/// floor(start × growth^n) messages.
public struct Warmup: Sendable, Equatable {
    public var start: Int
    public var growth: Double

    public init(start: Int, growth: Double) {
        self.start = start
        self.growth = growth
    }

    /// The warm-up allowance on day `day` (≥ 1, saturating at `Int.max`).
    public func limit(onDay day: Int) -> Int {
        let value = (Double(max(1, start)) * pow(max(1, growth), Double(max(0, day)))).rounded(.down)
        // Bad values are rejected by `validate()`; clamp here so the arithmetic can never trap.
        guard value.isFinite, value < Double(Int.max) else { return Int.max }
        return max(1, Int(value))
    }
}

/// Per-device send caps. `nil` means no cap of that kind.
public struct SendCaps: Sendable, Equatable {
    /// Sends in any rolling 60 minutes.
    public var hourly: Int?
    /// Sends per calendar day in the device's time zone.
    public var daily: Int?
    public var warmup: Warmup?

    public static let unlimited = SendCaps()

    /// True when any cap counts sends (so a send must be counted wherever it is made).
    public var countsSends: Bool { hourly != nil || daily != nil || warmup != nil }

    public init(hourly: Int? = nil, daily: Int? = nil, warmup: Warmup? = nil) {
        self.hourly = hourly
        self.daily = daily
        self.warmup = warmup
    }

    /// Checks the values at configuration time. Unvalidated values still work: caps below 1 are
    /// treated as 1 so a device is slowed, never silently stopped forever.
    public func validate() throws(SendPolicyError) {
        if let hourly, hourly < 1 { throw .capNotPositive(name: "hourly", value: hourly) }
        if let daily, daily < 1 { throw .capNotPositive(name: "daily", value: daily) }
        if let warmup {
            if warmup.start < 1 { throw .warmupStartNotPositive(warmup.start) }
            if !warmup.growth.isFinite || warmup.growth < 1 { throw .warmupGrowthInvalid(warmup.growth) }
        }
    }

    /// The effective daily limit on day `day` since the first send: min(daily, warm-up), or nil
    /// when neither applies.
    public func dailyLimit(onDay day: Int) -> Int? {
        let cap = daily.map { max(1, $0) }
        guard let warmup else { return cap }
        let ramp = warmup.limit(onDay: day)
        return cap.map { min($0, ramp) } ?? ramp
    }
}
