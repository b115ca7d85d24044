/// Which dead letters of one partition the replay group already handled (replayed, or passed over
/// as unreadable). `committed` is the group's committed offset: everything below is handled. Offsets
/// handled above it (a `--reason` replay leaves other reasons behind) travel in the commit metadata,
/// so the next replay skips them: each dead letter is replayed once.
public struct ReplayCursor: Sendable, Equatable {
    public private(set) var committed: Int64
    /// Sorted, disjoint, all above `committed`.
    public private(set) var handled: [ClosedRange<Int64>]
    /// Kafka keeps 4096 bytes of metadata by default; at most this many ranges keep us well below.
    public static let maxRanges = 150
    static let prefix = "replayed:v1:"

    public init(committed: Int64, metadata: String?) {
        self.committed = max(0, committed)
        handled = Self.parse(metadata ?? "").filter { $0.upperBound >= max(0, committed) }
        normalize()
    }

    public func isHandled(_ offset: Int64) -> Bool {
        offset < committed || handled.contains { $0.contains(offset) }
    }

    /// False (and nothing recorded) when remembering this offset would need one range too many.
    @discardableResult
    public mutating func markHandled(_ offset: Int64) -> Bool {
        guard !isHandled(offset) else { return true }
        let joins = offset == committed || handled.contains { $0.upperBound + 1 == offset || $0.lowerBound - 1 == offset }
        guard joins || handled.count < Self.maxRanges else { return false }
        handled.append(offset...offset)
        normalize()
        return true
    }

    /// The metadata to commit beside `committed`.
    public var metadata: String {
        guard !handled.isEmpty else { return "" }
        return Self.prefix + handled.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
            .joined(separator: ",")
    }

    private mutating func normalize() {
        handled.sort { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<Int64>] = []
        for range in handled {
            let range = max(range.lowerBound, committed)...range.upperBound
            guard range.lowerBound <= range.upperBound else { continue }
            if let last = merged.last, range.lowerBound <= last.upperBound + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        // Handled offsets right at the committed one move the commit forward.
        if let first = merged.first, first.lowerBound == committed {
            committed = first.upperBound + 1
            merged.removeFirst()
        }
        handled = merged
    }

    /// Unknown or foreign metadata reads as nothing handled above the committed offset: at worst
    /// a record is replayed again, never silently skipped.
    static func parse(_ metadata: String) -> [ClosedRange<Int64>] {
        guard metadata.hasPrefix(prefix) else { return [] }
        var result: [ClosedRange<Int64>] = []
        for part in metadata.dropFirst(prefix.count).split(separator: ",") {
            let bounds = part.split(separator: "-", maxSplits: 1)
            guard let low = bounds.first.flatMap({ Int64($0) }) else { return [] }
            let high = bounds.count == 2 ? Int64(bounds[1]) : low
            guard let high, low >= 0, high >= low else { return [] }
            result.append(low...high)
        }
        return result
    }
}
