import Foundation
import Synchronization

/// A sender that sends nothing: it waits a realistic time and fails now and then, for development,
/// demos and benchmarks. Deterministic for a given seed and message id.
public struct SimulatedSender: MessageSender {
    public struct Configuration: Sendable, Equatable {
        /// Latency is drawn uniformly between these bounds (milliseconds); 0...0 answers at once.
        public var minLatencyMilliseconds: Double = 80
        public var maxLatencyMilliseconds: Double = 400
        /// Share of sends that fail with a retryable error (like a 429 or a 503).
        public var retryableFailureRate: Double = 0
        /// Share of sends that fail for good (like an invalid recipient).
        public var permanentFailureRate: Double = 0
        /// Devices whose sends fail with a ban-like error that pauses the device.
        public var banLikeDevices: Set<String> = []
        public var seed: UInt64 = 1

        public init() {}

        /// Answers at once and never fails: for throughput benchmarks.
        public static var instant: Configuration {
            var configuration = Configuration()
            configuration.minLatencyMilliseconds = 0
            configuration.maxLatencyMilliseconds = 0
            return configuration
        }
    }

    public let configuration: Configuration
    private let counter = Counter()

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Sends made so far (including failed attempts).
    public var attempts: Int { counter.value }

    public func send(_ message: OutgoingMessage) async throws(SendFailure) -> SendReceipt {
        let attempt = counter.next()
        // One draw per attempt, stable for the same seed, message and attempt number.
        var random = StableDraw(seed: configuration.seed, text: message.messageId, salt: UInt64(attempt))
        let latency = configuration.minLatencyMilliseconds
            + (configuration.maxLatencyMilliseconds - configuration.minLatencyMilliseconds) * random.unit()
        if latency > 0 {
            try? await Task.sleep(for: .milliseconds(latency))
        }
        if configuration.banLikeDevices.contains(message.deviceId) {
            throw .permanent(code: "131048", message: "simulated spam rate limit", pausesDevice: true)
        }
        let roll = random.unit()
        if roll < configuration.retryableFailureRate {
            throw .retryable(code: "130429", message: "simulated throughput limit", retryAfterSeconds: nil)
        }
        if roll < configuration.retryableFailureRate + configuration.permanentFailureRate {
            throw .permanent(code: "131026", message: "simulated undeliverable recipient", pausesDevice: false)
        }
        return SendReceipt(providerMessageId: "sim.\(message.messageId).\(attempt)")
    }
}

private final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    func next() -> Int { count.add(1, ordering: .relaxed).newValue }
    var value: Int { count.load(ordering: .relaxed) }
}

/// SplitMix64 seeded from a text: stable across processes, unlike Swift's `Hasher`.
struct StableDraw {
    private var state: UInt64

    init(seed: UInt64, text: String, salt: UInt64) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        state = hash ^ (salt &* 0x9e37_79b9_7f4a_7c15)
    }

    mutating func unit() -> Double {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        z ^= z >> 31
        return Double(z >> 11) / Double(1 << 53)
    }
}
