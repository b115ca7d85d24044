import DequeModule

/// The few operations lanes and offset trackers need beyond `Deque`'s own.
extension Deque {
    /// Removes the head; an emptied queue gives its buffer back, so an idle lane or partition
    /// holds no memory.
    mutating func removeFirstReleasingStorage() {
        removeFirst()
        if isEmpty { self = Deque() }
    }

    /// Mutates the head in place (no copy of the buffer).
    mutating func modifyFirst(_ body: (inout Element) -> Void) {
        guard !isEmpty else { return }
        body(&self[startIndex])
    }

    /// Removes the elements at positions `>= start` matching `predicate`, keeping the order of
    /// the rest; returns the removed ones in their order. O(count).
    mutating func removeAll(fromPosition start: Int, where predicate: (Element) -> Bool) -> [Element] {
        var removed: [Element] = []
        var kept = Deque()
        kept.reserveCapacity(count)
        for (position, element) in enumerated() {
            if position >= start, predicate(element) { removed.append(element) } else { kept.append(element) }
        }
        if !removed.isEmpty { self = kept }
        return removed
    }
}

extension RandomAccessCollection where Index == Int {
    /// First position whose element does not satisfy `isBelow` (the collection is partitioned by
    /// it, e.g. ascending offsets and `$0.offset < key`): a binary search, O(log n).
    func partitionPoint(_ isBelow: (Element) -> Bool) -> Int {
        var low = startIndex
        var high = endIndex
        while low < high {
            let mid = low + (high - low) / 2
            if isBelow(self[mid]) { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
