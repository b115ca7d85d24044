import BroadcastModel
import BroadcastTesting
import Foundation
import Kafka
import Testing

/// A WhatsApp Business Account's budget of unique recipients per 24 hours, shared by its numbers
/// on two `broadcast worker` processes: counted in the stand-in Cloud API's request log.
@Suite("Business budget across worker processes", .serialized, .timeLimit(.minutes(4)))
struct BusinessBudgetTests {
    static let limit = 10

    static func phone(_ index: Int) -> String { "+6011" + String(format: "%07d", index) }

    @Test("a burst from many numbers of one business on two workers: the provider sees at most the budget's unique recipients")
    func budgetHoldsUnderABurst() async throws {
        let log = DeviceStateTests.RequestLog()
        try await StubHTTPServer.with(DeviceStateTests.cloudAnswer(log)) { server in
            let harness = try ClusterHarness(partitions: 4)
            let acme = (0..<8).map { "acme-\($0)" }
            let other = (0..<2).map { "other-\($0)" }
            // A number of the business with nothing queued: nothing of the burst waits in its lane.
            let spare = "acme-spare"
            let devices = acme + other + [spare]
            let file = try DeviceStateTests.writeDevicesFile(
                devices: devices, baseURL: "http://127.0.0.1:\(server.port)", capped: false,
                header: ["businesses:", "  - { id: acme, messagingLimit: \(Self.limit) }", "  - { id: other, messagingLimit: 250 }"]
            ) { device in ["business: \(device.hasPrefix("acme-") ? "acme" : "other")", "samePhoneGapSeconds: 0"] }
            defer { try? FileManager.default.removeItem(at: file) }
            // A claim nobody can read, already on the topic: it must count for no one and stop nothing.
            _ = try await harness.producer.send(ProducerRecord(
                topic: harness.topics.devices, key: Array("recipient-claim/acme/0123".utf8), value: Array("{not json".utf8)))

            let status = try harness.follow(harness.topics.status)
            let first = try DeviceStateTests.worker("first", harness: harness, devicesFile: file)
            let second = try DeviceStateTests.worker("second", harness: harness, devicesFile: file)
            // Both workers own partitions before the burst: simulated devices on every partition are
            // sent, by both of them.
            let fresh = (0..<16).map { "fresh-\($0)" }
            try await harness.publish(fresh.map { testMessage(id: "f-\($0)", device: $0) })
            try await status.wait(timeout: .seconds(90)) { _ in
                Set(status.statusEvents.sends().filter { $0.deviceId.hasPrefix("fresh-") }.map(\.worker)).count == 2
            }

            // 8 numbers × 3 new recipients each = 24 unique recipients against a budget of 10; the
            // other business's 12 are far from its 250.
            var burst: [BroadcastMessage] = []
            for (number, device) in acme.enumerated() {
                for index in 0..<3 { burst.append(testMessage(id: "\(device)-\(index)", device: device, phone: Self.phone(number * 3 + index))) }
            }
            for (number, device) in other.enumerated() {
                for index in 0..<6 { burst.append(testMessage(id: "\(device)-\(index)", device: device, phone: Self.phone(100 + number * 6 + index))) }
            }
            try await harness.publish(burst)
            let acmeNumbers = Set(acme.map { DeviceStateTests.number(of: $0, in: devices) })
            let acmeRecipients = {
                Set(log.requests.withLock { $0.filter { acmeNumbers.contains($0.phoneNumberId) }.map(\.to) })
            }
            let isHeld = { (event: StatusEvent) in event.status == .retrying && event.reason == "business_budget" }
            // Each number sends in order: once its head waits on the budget, the rest of its
            // messages wait behind it. Settled: every number's first unsent message is held.
            let ids = Dictionary(grouping: burst.filter { $0.deviceId.hasPrefix("acme-") }, by: \.deviceId).mapValues { $0.map(\.id) }
            let unsentHeads = { (events: [StatusEvent]) -> [String] in
                let sent = Set(events.sends().map(\.messageId))
                return ids.values.compactMap { $0.first { !sent.contains($0) } }
            }
            try await status.wait(timeout: .seconds(90)) { _ in
                let events = status.statusEvents
                let held = Set(events.filter(isHeld).map(\.messageId))
                let otherSent = events.sends().filter { $0.deviceId.hasPrefix("other-") }.count
                return otherSent >= 12 && Set(events.sends().filter { $0.deviceId.hasPrefix("acme-") }.map(\.messageId)).count >= Self.limit
                    && unsentHeads(events).allSatisfy(held.contains)
            }
            let events = status.statusEvents
            let sentAcme = events.sends().filter { $0.deviceId.hasPrefix("acme-") }
            let heldAcme = Set(events.filter(isHeld).map(\.messageId))
            print("business budget: \(acmeRecipients().count) unique acme recipients at the provider (limit \(Self.limit)), \(sentAcme.count) sent, \(heldAcme.count) numbers held; senders \(Set(sentAcme.compactMap(\.worker)).sorted())")
            #expect(acmeRecipients().count == Self.limit)
            #expect(Set(sentAcme.map(\.messageId)).count == Self.limit)
            #expect(heldAcme == Set(unsentHeads(events)), "each number's first unsent message waits with reason business_budget")
            #expect(heldAcme.isDisjoint(with: Set(sentAcme.map(\.messageId))))
            #expect(Set(sentAcme.map(\.worker)) == ["first", "second"], "both workers must have spent the budget for it to be shared")
            #expect(Set(events.sends().filter { $0.deviceId.hasPrefix("other-") }.map(\.messageId)).count == 12)

            // A recipient already counted costs nothing: another number of the business may write
            // to them although the budget is spent; a new one waits.
            let counted = try #require(burst.first { $0.id == sentAcme.first?.messageId })
            try await harness.publish([
                testMessage(id: "again", device: spare, phone: counted.recipient.phone),
                testMessage(id: "new", device: spare, phone: Self.phone(99)),
            ])
            try await status.wait(timeout: .seconds(60)) { _ in status.statusEvents.contains { $0.messageId == "new" && isHeld($0) } }
            #expect(status.statusEvents.sends().contains { $0.messageId == "again" })
            #expect(status.statusEvents.contains { $0.messageId == "new" && isHeld($0) })
            #expect(!status.statusEvents.sends().contains { $0.messageId == "new" })
            #expect(acmeRecipients().count == Self.limit)

            // The claims on the topic: one partition for the business, and replaying it gives the same count.
            let claims = try harness.follow(harness.topics.devices)
            try await claims.wait(timeout: .seconds(30)) { records in
                records.filter { $0.key?.hasPrefix(RecipientClaim.keyPrefix) == true }.count >= Self.limit + acme.count + 3
            }
            let read = claims.records.value.compactMap { record -> (Int32, RecipientClaim)? in
                guard let key = record.key, let claim = try? RecipientClaim.decodeValidated(key: key, value: record.value) else { return nil }
                return (record.partition, claim)
            }
            #expect(Set(read.filter { $0.1.businessId == "acme" }.map(\.0)).count == 1)
            var ledger = RecipientBudgetLedger()
            let verdicts = read.filter { $0.1.businessId == "acme" }.map { ledger.apply($0.1) }
            #expect(verdicts.filter { $0 == .granted }.count == Self.limit)
            #expect(!read.contains { $0.1.recipient.contains("6011") }, "claims must not carry phone numbers")
            await claims.close()

            #expect(first.terminate() == 0)
            #expect(second.terminate() == 0)
            await status.close()
        }
    }
}
