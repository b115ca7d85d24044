import BroadcastModel
import DeviceWorker

/// Drives `LaneScheduler` through a whole backlog on a virtual clock to measure its own cost
/// (no sender, no Kafka): how many dispatch-and-complete cycles per second of real time it can do.
public enum SchedulerBenchmark {
    public struct Result: Sendable, Equatable {
        public let dispatches: Int
        /// Virtual time the backlog took (pacing), seconds.
        public let virtualSeconds: Double
        /// Real time spent in the scheduler (enqueue, dispatch, complete), seconds.
        public let wallSeconds: Double
        public let dispatchesPerSecond: Double
    }

    /// `devices` lanes over 12 partitions, `messagesPerDevice` each, a fixed 1 s gap, every send
    /// succeeding at the instant it is dispatched.
    public static func run(devices: Int = 5_000, messagesPerDevice: Int = 10) -> Result {
        let partitions = 12
        let names = (0..<devices).map { "device-\($0)" }
        var scheduler = LaneScheduler<Int>(
            configuration: .init(paceFirstSendFromTakeover: false),
            random: SplitMix64(seed: 1)
        )
        var nextOffset = [Int64](repeating: 0, count: partitions)
        var dispatches = 0
        var virtualNow = 0.0
        let clock = ContinuousClock()
        let start = clock.now
        for message in 0..<messagesPerDevice {
            for device in 0..<devices {
                let partition = device % partitions
                scheduler.enqueue(partition: Int32(partition), offset: nextOffset[partition], device: names[device],
                                  payload: message, minDelay: 1, maxDelay: 1, now: 0)
                nextOffset[partition] += 1
            }
        }
        while let wakeUp = scheduler.nextWakeUp {
            virtualNow = Swift.max(virtualNow, wakeUp)
            for dispatch in scheduler.takeDue(now: virtualNow) {
                dispatches += 1
                _ = try? scheduler.complete(device: dispatch.device, outcome: .sent, now: virtualNow)
            }
        }
        let wall = start.duration(to: clock.now).seconds
        return Result(dispatches: dispatches, virtualSeconds: virtualNow, wallSeconds: wall,
                      dispatchesPerSecond: wall > 0 ? Double(dispatches) / wall : 0)
    }
}
