/// Pauses fetching when too many records are held in memory and resumes once the backlog has
/// drained well below: the gap between `high` and `low` (hysteresis) stops pause/resume flapping.
public struct BackpressureGate: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        case pause
        case resume
    }

    public let high: Int
    public let low: Int
    public private(set) var isPaused = false

    /// - Throws: `BackpressureGateError.invalidBounds` unless `0 <= low <= high`.
    public init(high: Int, low: Int) throws(BackpressureGateError) {
        guard low >= 0, low <= high else { throw .invalidBounds(high: high, low: low) }
        self.high = high
        self.low = low
    }

    /// Feed the current held count; returns `.pause` once when it rises above `high` and
    /// `.resume` once when it falls below `low`, nil otherwise.
    public mutating func update(held: Int) -> Action? {
        if !isPaused, held > high {
            isPaused = true
            return .pause
        }
        if isPaused, held < low {
            isPaused = false
            return .resume
        }
        return nil
    }
}

public enum BackpressureGateError: Error, Equatable, CustomStringConvertible {
    case invalidBounds(high: Int, low: Int)

    public var description: String {
        switch self {
        case let .invalidBounds(high, low):
            "backpressure bounds high=\(high) low=\(low) are invalid: need 0 <= low <= high (e.g. low = high * 3 / 4)"
        }
    }
}
