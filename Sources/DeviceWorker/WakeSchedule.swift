import HeapModule

/// When each parked device wakes: one timer per device, however many records it has waiting.
///
/// Pure, like `LaneScheduler`: times are seconds of a clock the caller chooses. Scheduling a
/// device again replaces its timer (the old heap entry goes stale and is skipped); `cancel` drops
/// it. `schedule` and each due device of `takeDue` are O(log n).
public struct WakeSchedule: Sendable {
    private struct Entry: Comparable, Sendable {
        let due: Double
        let token: UInt64
        let device: String

        static func < (lhs: Entry, rhs: Entry) -> Bool {
            lhs.due != rhs.due ? lhs.due < rhs.due : lhs.token < rhs.token
        }

        static func == (lhs: Entry, rhs: Entry) -> Bool { lhs.token == rhs.token }
    }

    private var heap = Heap<Entry>()
    private var tokens: [String: UInt64] = [:]
    private var nextToken: UInt64 = 0

    public init() {}

    /// Devices with a timer.
    public var count: Int { tokens.count }

    /// The earliest timer, nil when none.
    public var nextDue: Double? {
        mutating get {
            dropStale()
            return heap.min?.due
        }
    }

    /// Sets (or moves) the device's timer.
    public mutating func schedule(_ device: String, at due: Double) {
        nextToken &+= 1
        tokens[device] = nextToken
        heap.insert(Entry(due: due, token: nextToken, device: device))
        if heap.count > 2 * tokens.count + 1_024 {
            let live = tokens
            heap = Heap(heap.unordered.filter { live[$0.device] == $0.token })
        }
    }

    public mutating func cancel(_ device: String) {
        tokens.removeValue(forKey: device)
    }

    /// Removes and returns the devices due at `now`, earliest first.
    public mutating func takeDue(now: Double) -> [String] {
        var due: [String] = []
        while let top = heap.min, top.due <= now {
            heap.popMin()
            guard tokens[top.device] == top.token else { continue }
            tokens.removeValue(forKey: top.device)
            due.append(top.device)
        }
        return due
    }

    private mutating func dropStale() {
        while let top = heap.min, tokens[top.device] != top.token { heap.popMin() }
    }
}
