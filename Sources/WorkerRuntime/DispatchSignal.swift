import Foundation

/// Wakes the dispatcher thread early: when a lane finished, records arrived or shutdown began.
final class DispatchSignal: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending = false

    func signal() {
        condition.lock()
        pending = true
        condition.signal()
        condition.unlock()
    }

    /// Waits until signalled or `deadline`; returns at once if a signal came since the last wait.
    func wait(until deadline: Date) {
        condition.lock()
        while !pending {
            // Foundation cannot convert far-future deadlines to a timespec: wait without one.
            if deadline.timeIntervalSinceNow > 86_400 {
                condition.wait()
            } else if !condition.wait(until: deadline) {
                break
            }
        }
        pending = false
        condition.unlock()
    }
}
