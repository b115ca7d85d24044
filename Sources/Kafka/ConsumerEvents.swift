import Foundation
import Synchronization

/// What a consumer hands to the application, in the order it happened.
public enum ConsumerEvent: Sendable {
    case messages(ConsumerBatch)
    /// Partitions now owned. Messages of these partitions in batches of an earlier epoch are stale.
    case assigned([TopicPartition], epoch: UInt64)
    /// Partitions given up (`lost` when the group moved them without a clean hand-over). Buffered
    /// messages of these partitions were dropped and will be read again by their next owner.
    case revoked([TopicPartition], lost: Bool, epoch: UInt64)
    /// A consumer error that librdkafka reported and will try to recover from.
    case error(KafkaError)
}

/// A bounded hand-over from the poll thread to one asynchronous reader. The poll thread waits while
/// more than `capacity` messages are waiting, which is how a slow application slows fetching.
final class ConsumerEventBuffer: Sendable {
    private struct State {
        var events: [ConsumerEvent] = []
        var head = 0
        var messages = 0
        var finished = false
        var reader: CheckedContinuation<ConsumerEvent?, Never>?
    }

    private let state = Mutex(State())
    private let space = DispatchSemaphore(value: 0)
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    var isFull: Bool { state.withLock { $0.messages >= capacity } }
    var isFinished: Bool { state.withLock { $0.finished } }

    /// Poll thread: waits up to `milliseconds` for the reader to take something.
    func waitForSpace(milliseconds: Int) {
        _ = space.wait(timeout: .now() + .milliseconds(milliseconds))
    }

    func push(_ event: ConsumerEvent) {
        let reader: CheckedContinuation<ConsumerEvent?, Never>? = state.withLock { state in
            if let reader = state.reader {
                state.reader = nil
                return reader
            }
            if case .messages(let batch) = event { state.messages += batch.count }
            state.events.append(event)
            return nil
        }
        reader?.resume(returning: event)
    }

    /// Rebalance: drops waiting messages of partitions given up so the application never sees them.
    func purge(_ partitions: Set<TopicPartition>) {
        state.withLock { state in
            var kept: [ConsumerEvent] = []
            for event in state.events[state.head...] {
                guard case .messages(let batch) = event else {
                    kept.append(event)
                    continue
                }
                state.messages -= batch.count
                if let rest = batch.removing(partitions) {
                    state.messages += rest.count
                    kept.append(.messages(rest))
                }
            }
            state.events = kept
            state.head = 0
        }
    }

    func finish() {
        let reader: CheckedContinuation<ConsumerEvent?, Never>? = state.withLock { state in
            state.finished = true
            defer { state.reader = nil }
            return state.reader
        }
        reader?.resume(returning: nil)
        space.signal()
    }

    /// Ends the events and drops what the reader has not taken. The client must not be destroyed
    /// while they wait here: each holds references that `rd_kafka_destroy` waits on forever.
    func finishDiscardingWaiting() {
        let dropped = state.withLock { state -> [ConsumerEvent] in
            let waiting = state.events
            state.events = []
            state.head = 0
            state.messages = 0
            return waiting
        }
        finish()
        _ = dropped  // freed here, outside the lock
    }

    /// The next waiting event; `.some(nil)` once finished and drained; nil when the reader must wait.
    private static func take(_ state: inout State) -> ConsumerEvent?? {
        guard state.head < state.events.count else { return state.finished ? .some(nil) : nil }
        let event = state.events[state.head]
        state.head += 1
        if case .messages(let batch) = event { state.messages -= batch.count }
        // Compact now and then instead of shifting the array on every read.
        if state.head > 64 && state.head * 2 > state.events.count {
            state.events.removeFirst(state.head)
            state.head = 0
        }
        return .some(event)
    }

    func next() async -> ConsumerEvent? {
        if let taken = state.withLock({ Self.take(&$0) }) {
            space.signal()
            return taken
        }
        return await withCheckedContinuation { continuation in
            let ready: ConsumerEvent?? = state.withLock { state in
                if let taken = Self.take(&state) { return taken }
                state.reader = continuation
                return nil
            }
            if let ready {
                space.signal()
                continuation.resume(returning: ready)
            }
        }
    }
}

/// The consumer's events as an asynchronous sequence. Iterate it from one task only.
public struct ConsumerEvents: AsyncSequence, Sendable {
    public typealias Element = ConsumerEvent
    let buffer: ConsumerEventBuffer

    public struct AsyncIterator: AsyncIteratorProtocol {
        let buffer: ConsumerEventBuffer
        public mutating func next() async -> ConsumerEvent? { await buffer.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(buffer: buffer) }
}
