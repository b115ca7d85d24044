/// Array-backed FIFO with a moving head: `Array.removeFirst()` shifts every element (O(n));
/// this keeps `removeFirst` amortised O(1) and still allows indexed access for binary search.
struct FIFOQueue<Element> {
    private var storage: [Element] = []
    private var head = 0

    init() {}

    var count: Int { storage.count - head }
    var isEmpty: Bool { head == storage.count }
    var first: Element? { head < storage.count ? storage[head] : nil }
    var last: Element? { head < storage.count ? storage[storage.count - 1] : nil }

    /// Position 0 is the head.
    subscript(position: Int) -> Element {
        get { storage[head + position] }
        set { storage[head + position] = newValue }
    }

    mutating func append(_ element: Element) {
        storage.append(element)
    }

    @discardableResult
    mutating func removeFirst() -> Element? {
        guard head < storage.count else { return nil }
        let element = storage[head]
        head += 1
        if head == storage.count {
            // Drop the buffer so an idle lane or partition holds no memory.
            storage = []
            head = 0
        } else if head >= 32, head * 2 >= storage.count {
            // Compact once the dead prefix is at least half the buffer: amortised O(1).
            storage.removeFirst(head)
            head = 0
        }
        return element
    }

    /// Mutates the head in place (no copy of the buffer).
    mutating func modifyFirst(_ body: (inout Element) -> Void) {
        guard head < storage.count else { return }
        body(&storage[head])
    }

    /// Removes the elements at positions `>= start` matching `predicate`, keeping the order of
    /// the rest; returns the removed ones in their order. O(count).
    mutating func removeAll(fromPosition start: Int = 0, where predicate: (Element) -> Bool) -> [Element] {
        var removed: [Element] = []
        var kept: [Element] = []
        kept.reserveCapacity(count)
        for position in 0..<count {
            let element = storage[head + position]
            if position >= start, predicate(element) {
                removed.append(element)
            } else {
                kept.append(element)
            }
        }
        if !removed.isEmpty {
            storage = kept
            head = 0
        }
        return removed
    }

    /// Index of the first position whose element is not `< key` per `isLess` (lower bound).
    func lowerBound(_ isBelow: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if isBelow(storage[head + mid]) { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

extension FIFOQueue: Sendable where Element: Sendable {}
