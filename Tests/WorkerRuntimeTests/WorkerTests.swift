import BroadcastModel
import BroadcastTesting
import Foundation
import Kafka
import Senders
import Testing
import WorkerRuntime

@Suite("Device worker on the embedded cluster")
struct WorkerTests {
    @Test("one device's wait never holds up the others: 50 devices on one partition progress together")
    func noHeadOfLineBlocking() async throws {
        let harness = try ClusterHarness(partitions: 1)
        let devices = (0..<50).map { "dev-\($0)" }
        // Three messages per device, interleaved as a real campaign publishes them.
        let messages = (0..<3).flatMap { round in
            devices.map { testMessage(id: "m-\($0)-\(round)", device: $0, minDelay: 1, maxDelay: 1) }
        }
        try await harness.publish(messages)
        let status = try harness.follow(harness.topics.status)
        var sender = SimulatedSender.Configuration()
        sender.minLatencyMilliseconds = 5
        sender.maxLatencyMilliseconds = 20
        let (worker, task) = try harness.startWorker(name: "w1", sender: SimulatedSender(configuration: sender))
        try await status.wait { records in records.count >= 150 * 2 && status.statusEvents.sends().count >= 150 }
        worker.shutdown()
        try await task.value
        await status.close()

        let events = status.statusEvents
        #expect(events.sends().count == 150)
        expectOrderAndPacing(events, minGap: 1)
        // The k-th send of every device happens at about the same time: 50 lanes in parallel,
        // not one after another (which would spread them over 50 s). Alone it stays well inside
        // 0.8 s; the bound leaves room for the whole suite loading two cores (0.82 s seen there).
        let byDevice = events.sentByDevice
        for round in 0..<3 {
            let times = devices.compactMap { byDevice[$0]?[safe: round]?.at }
            #expect(times.count == 50)
            if let first = times.min(), let last = times.max() {
                #expect(last.timeIntervalSince(first) < 3, "round \(round) spread over \(last.timeIntervalSince(first)) s")
            }
        }
    }

    @Test("records that cannot be sent go to the dead-letter topic with their reason; the rest are sent")
    func poisonRecords() async throws {
        let harness = try ClusterHarness(partitions: 2)
        let dlq = try harness.follow(harness.topics.deadLetters)
        let status = try harness.follow(harness.topics.status)
        try await harness.publish([testMessage(id: "good-1", device: "dev-a")])
        try await harness.publishRaw(key: Array("dev-a".utf8), value: Array("not json at all".utf8))
        var unknownSchema = testMessage(id: "future", device: "dev-a").encoded()
        unknownSchema = Array(String(decoding: unknownSchema, as: UTF8.self)
            .replacingOccurrences(of: "broadcast.message.v1", with: "broadcast.message.v9").utf8)
        try await harness.publishRaw(key: Array("dev-a".utf8), value: unknownSchema)
        try await harness.publishRaw(key: Array("dev-a".utf8), value: testMessage(id: "bad-phone", device: "dev-a", phone: "12345").encoded())
        try await harness.publishRaw(key: Array("dev-b".utf8), value: testMessage(id: "wrong-key", device: "dev-a").encoded())
        try await harness.publishRaw(key: Array("dev-a".utf8), value: nil)
        try await harness.publish([testMessage(id: "good-2", device: "dev-a"), testMessage(id: "good-3", device: "dev-b")])

        var sender = SimulatedSender.Configuration()
        sender.minLatencyMilliseconds = 1
        sender.maxLatencyMilliseconds = 5
        let (worker, task) = try harness.startWorker(name: "w1", sender: SimulatedSender(configuration: sender))
        try await dlq.wait { $0.count >= 5 }
        try await status.wait { _ in status.statusEvents.sends().count >= 3 }
        worker.shutdown()
        try await task.value
        await dlq.close()
        await status.close()

        let letters = dlq.records.value
        let reasons = letters.compactMap { record in
            record.headers.first { $0.name == DeadLetter.Header.reason }?.stringValue
        }
        #expect(reasons.sorted() == ["invalid", "key_mismatch", "undecodable", "undecodable", "unsupported_schema"])
        // The original bytes travel unchanged, with where they came from.
        let garbage = try #require(letters.first { $0.value == Array("not json at all".utf8) })
        #expect(garbage.key == "dev-a")
        let origin = try DeadLetter(headers: garbage.headers.map { ($0.name, $0.value ?? []) })
        #expect(origin.sourceTopic == harness.topics.messages)
        #expect(origin.sourceOffset >= 0)
        #expect(Set(status.statusEvents.sends().map(\.messageId)) == ["good-1", "good-2", "good-3"])
        let deadLettered = status.statusEvents.filter { $0.status == .deadLettered }.map(\.messageId)
        #expect(Set(deadLettered) == ["bad-phone", "wrong-key"])
    }

    @Test("retryable failures retry in the lane and in order; permanent ones fail; other devices go on")
    func retries() async throws {
        let harness = try ClusterHarness(partitions: 1)
        let status = try harness.follow(harness.topics.status)
        let sender = ScriptedSender(script: [
            "a-1": [.retryable(code: "130429", message: "slow down", retryAfterSeconds: nil),
                    .retryable(code: "500", message: "oops", retryAfterSeconds: nil)],
            "a-2": [.permanent(code: "131026", message: "undeliverable", pausesDevice: false)],
        ])
        try await harness.publish([
            testMessage(id: "a-1", device: "dev-a"), testMessage(id: "a-2", device: "dev-a"),
            testMessage(id: "a-3", device: "dev-a"), testMessage(id: "b-1", device: "dev-b"),
            testMessage(id: "b-2", device: "dev-b"),
        ])
        let (worker, task) = try harness.startWorker(name: "w1", sender: sender) {
            $0.retryPolicy = .init(maxAttempts: 5, baseDelay: 0.4, multiplier: 2, maxDelay: 2)
            $0.paceFirstSendAfterTakeover = false
        }
        try await status.wait { _ in status.statusEvents.finals.count >= 5 }
        worker.shutdown()
        try await task.value
        await status.close()

        let events = status.statusEvents
        let finals = events.finals
        #expect(finals["a-1"]?.status == .sent)
        #expect(finals["a-1"]?.attempt == 3)
        #expect(finals["a-2"]?.status == .failed)
        #expect(finals["a-2"]?.error?.code == "131026")
        #expect(finals["a-3"]?.status == .sent)
        #expect(events.filter { $0.messageId == "a-1" && $0.status == .retrying }.count == 2)
        // Device order holds through retries: a-1 is tried until it is sent, then a-2, then a-3.
        #expect(sender.calls(for: "dev-a") == ["a-1", "a-1", "a-1", "a-2", "a-3"])
        // dev-b did not wait for dev-a's back-off.
        let bDone = try #require(finals["b-2"]?.at)
        let aFirstSent = try #require(finals["a-1"]?.at)
        #expect(bDone < aFirstSent, "dev-b finished at \(bDone), after dev-a's retries ended at \(aFirstSent)")
    }

    @Test("an expired message is not sent")
    func expired() async throws {
        let harness = try ClusterHarness(partitions: 1)
        let status = try harness.follow(harness.topics.status)
        try await harness.publish([
            testMessage(id: "late", device: "dev-a", scheduledAt: Date(timeIntervalSinceNow: -60), expiresAt: Date(timeIntervalSinceNow: -30)),
            testMessage(id: "fine", device: "dev-a"),
        ])
        let sender = ScriptedSender(script: [:])
        let (worker, task) = try harness.startWorker(name: "w1", sender: sender) { $0.paceFirstSendAfterTakeover = false }
        try await status.wait { _ in status.statusEvents.finals.count >= 2 }
        worker.shutdown()
        try await task.value
        await status.close()
        #expect(status.statusEvents.finals["late"]?.status == .expired)
        #expect(status.statusEvents.finals["fine"]?.status == .sent)
        #expect(sender.calls(for: "dev-a") == ["fine"])
    }
}

/// A sender whose answers are scripted per message id (then success), recording every call.
final class ScriptedSender: MessageSender {
    private let script: Locked<[String: [SendFailure]]>
    private let log = Locked<[(device: String, id: String)]>([])

    init(script: [String: [SendFailure]]) {
        self.script = Locked(script)
    }

    func calls(for device: String) -> [String] { log.value.filter { $0.device == device }.map(\.id) }

    func send(_ message: OutgoingMessage) async throws(SendFailure) -> SendReceipt {
        log.withLock { $0.append((message.deviceId, message.messageId)) }
        let failure = script.withLock { script -> SendFailure? in
            guard var planned = script[message.messageId], !planned.isEmpty else { return nil }
            let next = planned.removeFirst()
            script[message.messageId] = planned
            return next
        }
        if let failure { throw failure }
        return SendReceipt(providerMessageId: "wamid.\(message.messageId)")
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
