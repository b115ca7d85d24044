import BroadcastModel
import BroadcastTesting
import Foundation
import Kafka
import Testing

/// A number Meta flags mid-campaign: the campaign's messages move to the healthiest other number of
/// its pool instead of waiting out the pause. Counted in the stand-in Cloud API's request log.
@Suite("Rerouting off a paused device", .serialized, .timeLimit(.minutes(3)))
struct ReroutingTests {
    @Test("a banned number's messages move to the healthiest device of the pool, once each; messages without reroute wait")
    func bannedNumbersMessagesMove() async throws {
        let log = DeviceStateTests.RequestLog()
        let devices = ["banned", "spare-1", "spare-2"]
        let banned = DeviceStateTests.number(of: "banned", in: devices)
        try await StubHTTPServer.with(DeviceStateTests.cloudAnswer(log, banning: banned)) { server in
            let harness = try ClusterHarness(partitions: 2)
            let file = try DeviceStateTests.writeDevicesFile(devices: devices, baseURL: "http://127.0.0.1:\(server.port)", capped: false) { _ in
                ["samePhoneGapSeconds: 0"]
            }
            defer { try? FileManager.default.removeItem(at: file) }
            // spare-2 is paused by an operator: not fit to take anything over.
            #expect(try runBroadcast(["device", "pause", "spare-2", "--by", "test-operator"], harness: harness) == 0)
            let pool = BroadcastMessage.Reroute(afterSeconds: 60, devices: devices)
            var movable: [BroadcastMessage] = []
            for index in 0..<6 {
                var message = testMessage(id: "r-\(index)", device: "banned", phone: "+60122\(String(format: "%06d", index))")
                message.reroute = pool
                movable.append(message)
            }
            // Last in the lane: a message of a campaign that did not allow rerouting waits for its device.
            let staying = testMessage(id: "stay", device: "banned", phone: "+60122999999")
            let status = try harness.follow(harness.topics.status)
            let worker = try DeviceStateTests.worker("rerouting", harness: harness, devicesFile: file)
            try await harness.publish(movable + [staying])

            // r-0 meets the ban (failed); r-1…r-5 are rerouted to spare-1 and sent there.
            let moved = movable.dropFirst().map(\.id)
            try await status.wait(timeout: .seconds(90)) { _ in
                let sent = Set(status.statusEvents.sends().map(\.messageId))
                return moved.allSatisfy(sent.contains) && status.statusEvents.contains { $0.messageId == "stay" && $0.status == .retrying }
            }
            try await Task.sleep(for: .seconds(1))  // nothing more may arrive at the provider
            let events = status.statusEvents
            #expect(worker.terminate() == 0)
            await status.close()

            let rerouted = events.filter { $0.status == .rerouted }
            print("rerouting: \(rerouted.count) rerouted, provider requests \(log.perNumber)")
            #expect(events.contains { $0.messageId == "r-0" && $0.status == .failed && $0.error?.code == "131048" })
            #expect(rerouted.map(\.messageId).sorted() == moved.sorted())
            #expect(rerouted.allSatisfy { $0.deviceId == "spare-1" && $0.fromDeviceId == "banned" && $0.reason == "device_paused" })
            #expect(events.sends().filter { moved.contains($0.messageId) }.allSatisfy { $0.deviceId == "spare-1" })
            // At the provider: the banned number was tried once, spare-1 sent each moved recipient once, spare-2 nothing.
            let spare1 = DeviceStateTests.number(of: "spare-1", in: devices)
            let perPair = log.timesPerPair
            #expect(log.perNumber[banned] == 1)
            #expect(log.perNumber[DeviceStateTests.number(of: "spare-2", in: devices)] == nil)
            for message in movable.dropFirst() {
                let to = String(message.recipient.phone.dropFirst())
                #expect(perPair["\(spare1)>\(to)"]?.count == 1, "\(message.id) at spare-1: \(perPair["\(spare1)>\(to)"]?.count ?? 0) requests")
            }
            #expect(!events.sends().contains { $0.messageId == "stay" })
            #expect(events.contains { $0.messageId == "stay" && $0.status == .retrying && $0.reason == "device_paused" })
        }
    }
}
