import BroadcastModel
import BroadcastTesting
import DevicePolicies
import Foundation
import Kafka
import Senders
import Testing
import WorkerRuntime

/// Sends write no state record each: a commit first saves the state of the devices that sent since
/// the one before. No offset may be committed before that state is acknowledged.
@Suite(.serialized, .timeLimit(.minutes(3))) struct StateCheckpointTests {
    /// The real follower, whose records cannot be built while the gate is shut: a state write that
    /// never reaches Kafka.
    final class GatedJournal: FollowerJournal {
        let follower: DeviceStateFollower
        let open = Locked(false)
        let asked = Locked(0)

        init(_ follower: DeviceStateFollower) { self.follower = follower }

        func record(for deviceId: String) -> ProducerRecord? {
            asked.withLock { $0 += 1 }
            let deadline = ContinuousClock.now + .seconds(60)
            while !open.value, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.005) }
            return follower.record(for: deviceId)
        }
    }

    final class CountingSender: MessageSender {
        let calls = Locked(0)
        func send(_ message: OutgoingMessage) async throws(SendFailure) -> SendReceipt {
            calls.withLock { $0 += 1 }
            return SendReceipt(providerMessageId: "wamid.\(message.messageId)")
        }
    }

    static let devices = 4
    static let perDevice = 5

    static func message(_ index: Int) -> BroadcastMessage {
        BroadcastMessage(
            id: "cp-\(index)", userId: "u", deviceId: "cp-dev-\(index % devices)", source: .campaign, campaignId: "cmp-cp",
            recipient: .init(phone: "+6012346\(String(format: "%04d", index))"), content: .init(type: .text, text: "hi"),
            delay: .init(minSeconds: 0, maxSeconds: 0), scheduledAt: Date(timeIntervalSinceNow: -1), createdAt: Date())
    }

    static func committed(_ harness: ClusterHarness) async throws -> Int64 {
        try await harness.committedOffsets(group: "cp", partitions: 1)[0] ?? -1
    }

    @Test("a commit waits for the state of the sends it covers; a device that sent five times writes one record per checkpoint")
    func commitWaitsForTheDevicesState() async throws {
        let harness = try ClusterHarness(partitions: 1)
        let total = Self.devices * Self.perDevice
        try await harness.publish((0..<total).map(Self.message))
        let follower = try DeviceStateFollower(
            client: KafkaClientOptions(bootstrapServers: harness.bootstrap), topic: harness.topics.devices,
            policy: AntiSpamPolicy(), writer: "cp-worker")
        try follower.start()
        let journal = GatedJournal(follower)
        let sender = CountingSender()
        let status = try harness.follow(harness.topics.status)
        let states = try harness.follow(harness.topics.devices)
        let (worker, running) = try harness.startWorker(
            name: "cp-worker", group: "cp", sender: sender, policy: follower.policy, deviceState: journal
        ) { $0.handOverSettleDelay = .zero }

        // Every message sent and its final event acknowledged; the state cannot be written.
        try await status.wait(timeout: .seconds(30)) { _ in status.finals.count >= total }
        #expect(sender.calls.value == total)
        #expect(journal.asked.value >= 1, "no checkpoint asked for a state record")
        try await Task.sleep(for: .seconds(1))
        let whileShut = try await Self.committed(harness)
        #expect(whileShut < Int64(total), "committed \(whileShut) of \(total) before the state of those sends was written")

        journal.open.withLock { $0 = true }
        var committed = whileShut
        let deadline = ContinuousClock.now + .seconds(20)
        while committed < Int64(total), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            committed = try await Self.committed(harness)
        }
        #expect(committed == Int64(total), "the commit did not follow the state: \(committed) of \(total)")
        worker.shutdown()
        try await running.value

        // What a new owner reads: each device's latest record counts all its sends.
        try await states.wait(timeout: .seconds(10)) { records in Set(records.compactMap(\.key)).count >= Self.devices }
        var latest: [String: DeviceStateRecord] = [:]
        for record in states.records.value {
            guard let key = record.key, let state = try? DeviceStateRecord.decodeValidated(key: key, value: record.value) else { continue }
            latest[key] = state
        }
        #expect(latest.count == Self.devices)
        for (device, state) in latest {
            #expect(state.sendMinutes.reduce(0) { $0 + $1.count } == Self.perDevice, "\(device): \(state.sendMinutes)")
        }
        let written = states.records.value.count
        #expect(written < total, "\(written) state records for \(total) sends: one per send, not one per device and checkpoint")
        await status.close()
        await states.close()
        await follower.close()
    }
}
