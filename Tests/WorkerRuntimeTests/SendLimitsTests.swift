import BroadcastModel
import BroadcastTesting
import Foundation
import Kafka
import Senders
import Testing
import WorkerRuntime

/// A sender that answers after `latency`, counts how many sends it holds at once, and answers
/// the first attempt of the listed messages with a timeout (the request left, no answer came).
final class ObservingSender: MessageSender {
    struct Attempt: Sendable {
        var messageId: String
        var at: Date
    }

    let latency: Duration
    let timeOutFirstAttemptOf: Set<String>
    private let state = Locked((current: 0, peak: 0, attempts: [Attempt]()))

    init(latency: Duration, timeOutFirstAttemptOf: Set<String> = []) {
        self.latency = latency
        self.timeOutFirstAttemptOf = timeOutFirstAttemptOf
    }

    var peak: Int { state.value.peak }
    var attempts: [Attempt] { state.value.attempts }

    func send(_ message: OutgoingMessage) async throws(SendFailure) -> SendReceipt {
        let first = state.withLock { state in
            state.current += 1
            state.peak = max(state.peak, state.current)
            defer { state.attempts.append(Attempt(messageId: message.messageId, at: Date())) }
            return !state.attempts.contains { $0.messageId == message.messageId }
        }
        try? await Task.sleep(for: latency)
        state.withLock { $0.current -= 1 }
        if first, timeOutFirstAttemptOf.contains(message.messageId) {
            throw .outcomeUnknown(code: "timeout", message: "timeout: read timeout")
        }
        return SendReceipt(providerMessageId: "p-\(message.messageId)-\(UUID().uuidString.prefix(4))")
    }
}

@Suite("Worker send limits", .serialized, .timeLimit(.minutes(2)))
struct SendLimitsTests {
    @Test("sends in flight never exceed the worker's bound, however many devices are due at once")
    func inFlightBound() async throws {
        let harness = try ClusterHarness(partitions: 4)
        let messages = (0..<120).map { testMessage(id: "m-\($0)", device: "dev-\($0)") }
        try await harness.publish(messages)
        let status = try harness.follow(harness.topics.status)
        let sender = ObservingSender(latency: .milliseconds(150))
        let (worker, task) = try harness.startWorker(name: "w-bound", sender: sender) { $0.maxSendsInFlight = 8 }
        try await status.wait { _ in status.statusEvents.sends().count >= messages.count }
        worker.shutdown()
        try await task.value
        await status.close()

        #expect(Set(status.statusEvents.sends().map(\.messageId)).count == messages.count)
        #expect(sender.peak <= 8, "peak sends in flight \(sender.peak) above the bound of 8")
        #expect(sender.peak >= 4, "the bound should still let many devices send together (peak \(sender.peak))")
    }

    @Test("a retry after a timed-out attempt keeps the device's gap, and its event says the outcome is unknown")
    func timedOutAttemptIsPaced() async throws {
        let harness = try ClusterHarness(partitions: 1)
        let messages = [testMessage(id: "slow", device: "dev-a", minDelay: 3, maxDelay: 3)]
        try await harness.publish(messages)
        let status = try harness.follow(harness.topics.status)
        let sender = ObservingSender(latency: .milliseconds(20), timeOutFirstAttemptOf: ["slow"])
        let (worker, task) = try harness.startWorker(name: "w-timeout", sender: sender) {
            $0.retryPolicy = .init(maxAttempts: 3, baseDelay: 0.2, multiplier: 1, maxDelay: 0.2)
            $0.paceFirstSendAfterTakeover = false
        }
        try await status.wait { _ in status.statusEvents.sends().count >= 1 }
        worker.shutdown()
        try await task.value
        await status.close()

        let attempts = sender.attempts.filter { $0.messageId == "slow" }
        #expect(attempts.count == 2)
        if attempts.count == 2 {
            let gap = attempts[1].at.timeIntervalSince(attempts[0].at)
            #expect(gap >= 3, "retried \(gap) s after an attempt that may have been delivered; the device's gap is 3 s")
        }
        let retrying = try #require(status.statusEvents.first { $0.status == .retrying })
        #expect(retrying.error?.message.contains("outcome unknown") == true)
    }
}
