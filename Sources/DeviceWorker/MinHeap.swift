/// Binary min-heap: O(log n) push/pop, O(1) min. Used as the scheduler's timer wheel with lazy
/// deletion (stale entries are skipped when they surface, so re-scheduling never searches the heap).
struct MinHeap<Element: Comparable> {
    private(set) var elements: [Element] = []

    init() {}

    var count: Int { elements.count }
    var isEmpty: Bool { elements.isEmpty }
    var min: Element? { elements.first }

    mutating func push(_ element: Element) {
        elements.append(element)
        siftUp(elements.count - 1)
    }

    @discardableResult
    mutating func popMin() -> Element? {
        guard !elements.isEmpty else { return nil }
        elements.swapAt(0, elements.count - 1)
        let minimum = elements.removeLast()
        if !elements.isEmpty { siftDown(0) }
        return minimum
    }

    /// Keeps only the elements matching `isIncluded` and re-heapifies in O(n).
    mutating func filter(_ isIncluded: (Element) -> Bool) {
        elements = elements.filter(isIncluded)
        var index = elements.count / 2
        while index > 0 {
            index -= 1
            siftDown(index)
        }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard elements[child] < elements[parent] else { return }
            elements.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let count = elements.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { return }
            let right = left + 1
            var smallest = left
            if right < count, elements[right] < elements[left] { smallest = right }
            guard elements[smallest] < elements[parent] else { return }
            elements.swapAt(smallest, parent)
            parent = smallest
        }
    }
}

extension MinHeap: Sendable where Element: Sendable {}
