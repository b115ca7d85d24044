import BroadcastModel
import BroadcastTesting
import DevicePolicies
import Foundation
import Kafka
import Senders
import Testing
import WorkerRuntime

/// A worker whose assignment could not wait for the device state (it was not read to its end in
/// time) still sends a parked device's records first once the state arrives.
@Suite(.serialized, .timeLimit(.minutes(3))) struct LateParkingAdoptionTests {
    /// The real follower, with its catch-up reported as timed out and its parked devices withheld
    /// until `arrive()`: the state reaches this worker only after its assignment.
    final class LateJournal: FollowerJournal {
        let follower: DeviceStateFollower
        let arrived = Locked(false)

        init(_ follower: DeviceStateFollower) { self.follower = follower }

        func arrive() { arrived.withLock { $0 = true } }

        func catchUp(timeout: Duration) -> Bool { false }
        var isCurrent: Bool { arrived.value }
        func parkedDevices(on partition: Int32) -> [(deviceId: String, parking: DeviceStateRecord.Parking)] {
            arrived.value ? follower.parkedDevices(on: partition) : []
        }
    }

    /// Records the order the provider is asked to send in.
    final class RecordingSender: MessageSender {
        let calls = Locked<[String]>([])
        func send(_ message: OutgoingMessage) async throws(SendFailure) -> SendReceipt {
            calls.withLock { $0.append(message.messageId) }
            return SendReceipt(providerMessageId: "wamid.\(message.messageId)")
        }
    }

    static func message(_ index: Int) -> BroadcastMessage {
        BroadcastMessage(
            id: "L-\(index)", userId: "u", deviceId: "late-1", source: .campaign, campaignId: "cmp-late",
            recipient: .init(phone: "+6012345\(String(format: "%04d", index))"), content: .init(type: .text, text: "hi"),
            delay: .init(minSeconds: 0, maxSeconds: 0), scheduledAt: Date(timeIntervalSinceNow: -1), createdAt: Date())
    }

    @Test func parkedRecordsGoFirstWhenTheStateArrivesAfterTheAssignment() async throws {
        let harness = try ClusterHarness(partitions: 1)
        // A previous owner sent L-0…L-4, parked the device from offset 5 and committed all ten.
        try await harness.publish((0..<10).map(Self.message))
        let committer = try KafkaConsumer(configuration: harness.consumerConfiguration(group: "late"))
        try await committer.commit([TopicPartitionOffset(topic: harness.topics.messages, partition: 0, offset: 10)])
        await committer.close()
        let parked = DeviceStateRecord(
            deviceId: "late-1", updatedAt: Date(), writer: "previous-owner", lastSendAt: Date(timeIntervalSinceNow: -120),
            parking: .init(state: .parked, partition: 0, fromOffset: 5, wakeAt: Date(timeIntervalSinceNow: -1), reason: "quiet_hours", revision: 1))
        _ = try await harness.producer.send(ProducerRecord(topic: harness.topics.devices, key: Array("late-1".utf8), value: parked.encoded()))

        let policy = AntiSpamPolicy()
        let follower = try DeviceStateFollower(
            client: KafkaClientOptions(bootstrapServers: harness.bootstrap), topic: harness.topics.devices, policy: policy, writer: "late-worker")
        try follower.start()
        let journal = LateJournal(follower)
        let sender = RecordingSender()
        var configuration = WorkerConfiguration(topics: harness.topics, workerName: "late-worker")
        configuration.commitInterval = .milliseconds(100)
        configuration.handOverSettleDelay = .zero
        let worker = try DeviceWorkerService(
            configuration: configuration, consumer: harness.workerConsumerConfiguration(group: "late"),
            producer: harness.producer, senders: SingleSenderDirectory(sender), policy: policy, deviceState: journal)
        let running = Task { try await worker.run() }
        // New records arrive before the state does: they must not overtake the parked ones.
        try await harness.publish((10..<15).map(Self.message))
        let deadline = ContinuousClock.now + .seconds(30)
        while !worker.isReady, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        try await Task.sleep(for: .seconds(2))
        #expect(sender.calls.value.isEmpty, "sent before the device state was read: \(sender.calls.value)")
        journal.arrive()
        let expected = (5..<15).map { "L-\($0)" }
        let until = ContinuousClock.now + .seconds(30)
        while sender.calls.value.count < expected.count, ContinuousClock.now < until { try await Task.sleep(for: .milliseconds(50)) }
        try await Task.sleep(for: .milliseconds(500))
        worker.shutdown()
        try await running.value
        await follower.close()
        #expect(sender.calls.value == expected)
    }
}
