import BroadcastModel
import BroadcastTesting
import DevicePolicies
import Foundation
import Kafka
import Senders
import Testing
import WorkerRuntime

/// A token or configuration error parks the device and holds its message: nothing fails, and the
/// message goes out once the device may send again.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ParkedDeviceTests {
    final class ExpiredTokenOnce: MessageSender {
        let calls = Locked<[String]>([])
        func send(_ message: OutgoingMessage) async throws(SendFailure) -> SendReceipt {
            let first = calls.withLock { calls in
                calls.append(message.messageId)
                return calls.count == 1
            }
            if first { throw .deviceUnusable(code: "190", message: "Access token has expired") }
            return SendReceipt(providerMessageId: "wamid.\(message.messageId)")
        }
    }

    @Test func aTokenErrorHoldsTheMessageInsteadOfFailingIt() async throws {
        let harness = try ClusterHarness(partitions: 1)
        let sender = ExpiredTokenOnce()
        let coolOff: TimeInterval = 2
        let policy = AntiSpamPolicy(configuration: .init(health: .init(baseCoolOff: coolOff)))
        var configuration = WorkerConfiguration(topics: harness.topics, workerName: "parked")
        configuration.commitInterval = .milliseconds(100)
        let worker = try DeviceWorkerService(
            configuration: configuration, consumer: harness.workerConsumerConfiguration(group: "parked"),
            producer: harness.producer, senders: SingleSenderDirectory(sender), policy: policy)
        let status = try harness.follow(harness.topics.status)
        let running = Task { try await worker.run() }
        let messages = ["p-1", "p-2"].map { id in
            BroadcastMessage(
                id: id, userId: "u", deviceId: "dev-token", source: .campaign, campaignId: "cmp-p",
                recipient: .init(phone: id == "p-1" ? "+60123450001" : "+60123450002"), content: .init(type: .text, text: "hi"),
                delay: .init(minSeconds: 0, maxSeconds: 0), scheduledAt: Date(timeIntervalSinceNow: -1), createdAt: Date())
        }
        try await harness.publish(messages)
        try await status.wait(timeout: .seconds(90)) { _ in status.finals.count == 2 }
        worker.shutdown()
        try await running.value
        let finals = status.finals
        #expect(finals["p-1"]?.status == .sent && finals["p-2"]?.status == .sent, "\(finals.mapValues(\.status))")
        #expect(!status.statusEvents.contains { $0.status == .failed })
        let parked = try #require(status.statusEvents.first { $0.messageId == "p-1" && $0.status == .retrying })
        #expect(parked.reason == StatusEvent.Reason.devicePaused && parked.error?.code == "190")
        // p-1 was held for the cool-off, then sent first: order kept.
        #expect(sender.calls.value == ["p-1", "p-1", "p-2"])
        let sentAt = try #require(finals["p-1"]?.at)
        #expect(sentAt.timeIntervalSince(parked.at) >= coolOff - 0.05)
        await status.close()
    }
}
