import BroadcastModel
import BroadcastTesting
import DevicePolicies
import Foundation
import Kafka
import Senders
import Sequences
import Testing
import WorkerRuntime
@testable import Webhooks

/// Records what reaches the "provider".
final class RecordingSender: MessageSender {
    let sent = Locked<[OutgoingMessage]>([])
    func send(_ message: OutgoingMessage) async throws(SendFailure) -> SendReceipt {
        sent.withLock { $0.append(message) }
        return SendReceipt(providerMessageId: "wamid.rec-\(message.messageId)")
    }
}

/// End to end on the embedded cluster: a signed webhook → broadcast.inbound / broadcast.optouts →
/// the followers → the sequence store and the worker's policy.
@Suite(.serialized, .timeLimit(.minutes(3))) struct InboundFollowersTests {
    static let phone = "+60123456778"

    static func sequenceMessage(id: String, createdAt: Date) -> BroadcastMessage {
        BroadcastMessage(
            id: id, userId: "user-1", deviceId: "device-7", source: .sequence, sequenceId: "welcome", sequenceStepId: "day-2",
            recipient: .init(phone: phone, name: "Aisyah"), content: .init(type: .text, text: "Day 2: tips"),
            delay: .init(minSeconds: 0, maxSeconds: 0), scheduledAt: Date(timeIntervalSinceNow: -1), createdAt: createdAt)
    }

    @Test func aReplyEndsTheEnrolmentAndSkipsTheStepAlreadyPublished() async throws {
        let run = try await WebhookReceiverTests.start()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("replies-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteSequenceStore(path: folder.appendingPathComponent("sequences.sqlite").path)
        let window = SendWindow(start: TimeOfDay(hour: 0, minute: 0), end: TimeOfDay(hour: 23, minute: 59), timeZone: "UTC")
        let step = { (id: String, day: Int) in
            SequenceStep(id: id, dayOffset: day, window: window, content: .init(type: .text, text: "step \(id)"), delay: .init(minSeconds: 1, maxSeconds: 2))
        }
        _ = try await store.define(SequenceDefinition(id: "welcome", userId: "user-1", steps: [step("day-1", 0), step("day-2", 1)]), at: Date())
        _ = try await store.enroll([Contact(phone: Self.phone, name: "Aisyah", deviceId: "device-7"), Contact(phone: "+60199999999", deviceId: "device-7")], in: "welcome", at: Date())

        let replies = try ReplyFollower(
            consumer: run.harness.consumerConfiguration(group: "replies-\(UUID())"), topic: run.harness.topics.inbound, store: store)
        try replies.start()
        let ledger = ReplyLedger()
        let workerSide = try InboundReplyFollower(
            client: KafkaClientOptions(bootstrapServers: run.harness.bootstrap), topic: run.harness.topics.inbound, ledger: ledger)
        try workerSide.start()
        // A step the scheduler published before the contact wrote.
        let published = Self.sequenceMessage(id: "welcome-1-day-2", createdAt: Date(timeIntervalSince1970: 1_764_669_000))

        #expect(try await run.signedPost(WebhookReceiverTests.inboundBody(text: "Thanks, got it", wamid: "wamid.REPLY1")).0 == 200)

        let deadline = ContinuousClock.now + .seconds(60)
        var states: [String: EnrolmentState] = [:]
        while ContinuousClock.now < deadline {
            states = Dictionary(try await store.enrolments(sequenceId: "welcome").map { ($0.contact.phone, $0.state) }, uniquingKeysWith: { a, _ in a })
            if states[Self.phone] == .stopped, ledger.count > 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(states[Self.phone] == .stopped, "enrolments: \(states)")
        #expect(states["+60199999999"] == .active)
        #expect(replies.stopped == 1)

        let policy = AntiSpamPolicy(replies: ledger)
        #expect(policy.decide(published, attempt: 0, now: Date()) == .skip(reason: "replied"))
        // A step published after the reply (a new enrolment) goes out; so does a campaign message.
        let later = Self.sequenceMessage(id: "welcome-2-day-1", createdAt: Date())
        guard case .send = policy.decide(later, attempt: 0, now: Date()) else {
            Issue.record("a step published after the reply was held back")
            return
        }
        await replies.close()
        await workerSide.close()
        await run.stop()
    }

    @Test func aStopKeywordBlocksTheNextSend() async throws {
        let run = try await WebhookReceiverTests.start()
        let optOuts = OptOutStore()
        let follower = try OptOutFollower(
            client: KafkaClientOptions(bootstrapServers: run.harness.bootstrap), topic: run.harness.topics.optOuts, store: optOuts)
        try follower.start()
        #expect(try await run.signedPost(WebhookReceiverTests.inboundBody(text: "BERHENTI", wamid: "wamid.STOP1")).0 == 200)
        let deadline = ContinuousClock.now + .seconds(60)
        while !optOuts.contains(Self.phone), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(optOuts.contains(Self.phone))

        // The next campaign message to that phone is skipped by a real worker; another phone still gets its message.
        let sender = RecordingSender()
        var configuration = WorkerConfiguration(topics: run.harness.topics, workerName: "stop-worker")
        configuration.commitInterval = .milliseconds(100)
        let worker = try DeviceWorkerService(
            configuration: configuration, consumer: run.harness.workerConsumerConfiguration(group: "stop-workers"),
            producer: run.harness.producer, senders: SingleSenderDirectory(sender), policy: AntiSpamPolicy(optOuts: optOuts))
        let status = try run.harness.follow(run.harness.topics.status)
        let running = Task { try await worker.run() }
        let make = { (id: String, phone: String) in
            BroadcastMessage(
                id: id, userId: "user-1", deviceId: "device-7", source: .campaign, campaignId: "cmp-stop",
                recipient: .init(phone: phone), content: .init(type: .text, text: "Promo"),
                delay: .init(minSeconds: 0, maxSeconds: 0), scheduledAt: Date(timeIntervalSinceNow: -1), createdAt: Date())
        }
        try await run.harness.publish([make("stop-1", Self.phone), make("stop-2", "+60188888888")])
        try await status.wait(timeout: .seconds(90)) { _ in status.finals.count == 2 }
        worker.shutdown()
        try await running.value
        let finals = status.finals
        #expect(finals["stop-1"]?.status == .skipped && finals["stop-1"]?.reason == "opt_out", "\(finals.mapValues(\.status))")
        #expect(finals["stop-2"]?.status == .sent)
        #expect(sender.sent.value.map(\.recipientPhone) == ["+60188888888"])
        await status.close()
        await follower.close()
        await run.stop()
    }
}
