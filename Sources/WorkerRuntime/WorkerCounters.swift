import Synchronization

/// Running totals since the worker started, for logs, metrics and benchmarks.
public final class WorkerCounters: Sendable {
    let sent = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let retried = Atomic<Int>(0)
    let skipped = Atomic<Int>(0)
    let expired = Atomic<Int>(0)
    let deadLettered = Atomic<Int>(0)
    let held = Atomic<Int>(0)
    let lanes = Atomic<Int>(0)
    let pausedForBackpressure = Atomic<Bool>(false)

    public struct Snapshot: Sendable, Equatable, Codable {
        public var sent: Int
        public var failed: Int
        public var retried: Int
        public var skipped: Int
        public var expired: Int
        public var deadLettered: Int
        /// Records held in lanes now.
        public var held: Int
        public var lanes: Int
        public var fetchingPaused: Bool
    }

    public var snapshot: Snapshot {
        Snapshot(
            sent: sent.load(ordering: .relaxed), failed: failed.load(ordering: .relaxed),
            retried: retried.load(ordering: .relaxed), skipped: skipped.load(ordering: .relaxed),
            expired: expired.load(ordering: .relaxed), deadLettered: deadLettered.load(ordering: .relaxed),
            held: held.load(ordering: .relaxed), lanes: lanes.load(ordering: .relaxed),
            fetchingPaused: pausedForBackpressure.load(ordering: .relaxed)
        )
    }

    static func bump(_ counter: borrowing Atomic<Int>) { counter.add(1, ordering: .relaxed) }
}
