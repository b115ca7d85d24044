import BroadcastModel
import BroadcastTesting
import Foundation
import Kafka
import Testing

/// Device safety state on `broadcast.devices` across real worker processes, counted where it
/// matters: in the request log of a stand-in Cloud API on 127.0.0.1.
@Suite("Device state across worker processes", .serialized, .timeLimit(.minutes(4)))
struct DeviceStateTests {
    static let token = "EAAG-device-state-token-0123456789"
    static let hourlyCap = 3

    enum Stop: String, CaseIterable, Sendable {
        case sigterm, sigkill
    }

    /// Counts the stand-in's requests per phone number id (`/v23.0/<id>/messages`).
    final class RequestLog: Sendable {
        let requests = Locked<[(phoneNumberId: String, at: Date)]>([])

        func record(_ request: StubHTTPServer.Request) {
            let parts = request.path.split(separator: "/")
            guard parts.count >= 2 else { return }
            requests.withLock { $0.append((String(parts[parts.count - 2]), Date())) }
        }

        var total: Int { requests.withLock { $0.count } }
        var perNumber: [String: Int] {
            requests.withLock { Dictionary($0.map { ($0.phoneNumberId, 1) }, uniquingKeysWith: +) }
        }
    }

    /// Each device is a Cloud API number on the stand-in; its phone number id is ``number(of:)``.
    static func writeDevicesFile(devices: [String], baseURL: String, capped: Bool = true) throws -> URL {
        var lines = ["devices:"]
        for device in devices {
            lines += [
                "  - id: \(device)", "    sender: whatsapp-cloud", "    phoneNumberId: \"\(number(of: device, in: devices))\"",
                "    tokenEnv: DEVICE_STATE_WA_TOKEN", "    baseURL: \(baseURL)",
            ]
            if capped { lines.append("    caps: { hourly: \(hourlyCap) }") }
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("devices-\(UUID().uuidString.prefix(8)).yaml")
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    static func number(of device: String, in devices: [String]) -> String {
        String(1_000 + (devices.firstIndex(of: device) ?? 0))
    }

    static func worker(_ name: String, harness: ClusterHarness, devicesFile: URL) throws -> WorkerProcess {
        try WorkerProcess(
            name: name, bootstrap: harness.bootstrap, topicPrefix: harness.topics.prefix,
            arguments: ["--devices", devicesFile.path, "--device-state", "on"],
            environment: ["DEVICE_STATE_WA_TOKEN": token])
    }

    static func cloudAnswer(_ log: RequestLog) -> StubHTTPServer.Responder {
        { request, index in
            log.record(request)
            return .json(200, #"{"messaging_product":"whatsapp","contacts":[],"messages":[{"id":"wamid.ds-\#(index)"}]}"#)
        }
    }

    @Test("hourly caps hold across a hand-over: the provider sees at most N sends per device in the hour", arguments: Stop.allCases)
    func capsSurviveHandOver(stop: Stop) async throws {
        let log = RequestLog()
        try await StubHTTPServer.with(Self.cloudAnswer(log)) { server in
            let harness = try ClusterHarness(partitions: 4)
            let capped = (0..<16).map { "capped-\($0)" }
            let file = try Self.writeDevicesFile(devices: capped, baseURL: "http://127.0.0.1:\(server.port)")
            defer { try? FileManager.default.removeItem(at: file) }
            // Twice the cap for every device: the second half must wait for the hour, on whichever worker.
            let messages = (0..<(2 * Self.hourlyCap)).flatMap { round in
                capped.map { testMessage(id: "m-\($0)-\(round)", device: $0, minDelay: 0.05, maxDelay: 0.1) }
            }
            try await harness.publish(messages)
            let status = try harness.follow(harness.topics.status)
            let first = try Self.worker("first", harness: harness, devicesFile: file)
            let second = try Self.worker("second", harness: harness, devicesFile: file)
            let usedTheirHour = capped.count * Self.hourlyCap
            try await status.wait(timeout: .seconds(90)) { _ in status.statusEvents.sends().count >= usedTheirHour }
            let before = log.perNumber
            #expect(before.values.allSatisfy { $0 <= Self.hourlyCap }, "over the cap before the hand-over: \(before)")
            let firstOwned = Set(status.statusEvents.sends().filter { $0.worker == "first" }.map(\.deviceId))
            #expect(!firstOwned.isEmpty, "both workers must have sent for the hand-over to mean anything")

            switch stop {
            case .sigterm: #expect(first.terminate() == 0)
            case .sigkill: first.kill()
            }
            // Proof that the survivor took over every partition: messages of fresh (simulated,
            // uncapped) devices on all of them are sent, and by it.
            let fresh = (0..<16).map { "fresh-\($0)" }
            try await harness.publish(fresh.map { testMessage(id: "f-\($0)", device: $0, minDelay: 0, maxDelay: 0) })
            try await status.wait(timeout: .seconds(60)) { _ in
                Set(status.statusEvents.sends().filter { $0.deviceId.hasPrefix("fresh-") }.map(\.deviceId)).count == fresh.count
            }
            #expect(status.statusEvents.sends().filter { $0.deviceId.hasPrefix("fresh-") }.allSatisfy { $0.worker == "second" })
            // The capped devices' held messages are now the survivor's: give it time to (wrongly) send them.
            try await Task.sleep(for: .seconds(3))
            let after = log.perNumber
            #expect(second.terminate() == 0)
            await status.close()
            print("device state, \(stop.rawValue): provider requests per number \(after.sorted { $0.key < $1.key }), first owned \(firstOwned.count) devices")
            #expect(after.count == capped.count)
            #expect(after.values.allSatisfy { $0 <= Self.hourlyCap }, "the provider saw more than \(Self.hourlyCap) sends in the hour: \(after)")
            #expect(log.total == usedTheirHour)
        }
    }

    @Test("an operator's pause reaches every worker, survives a restart of all of them, and resume lets the device send")
    func operatorPauseSurvivesRestart() async throws {
        let log = RequestLog()
        try await StubHTTPServer.with(Self.cloudAnswer(log)) { server in
            let harness = try ClusterHarness(partitions: 2)
            let devices = ["paused", "free"]
            let paused = Self.number(of: "paused", in: devices)
            let file = try Self.writeDevicesFile(devices: devices, baseURL: "http://127.0.0.1:\(server.port)", capped: false)
            defer { try? FileManager.default.removeItem(at: file) }
            #expect(try runBroadcast(["device", "pause", "paused", "--by", "test-operator"], harness: harness) == 0)
            let status = try harness.follow(harness.topics.status)
            var worker = try Self.worker("before-restart", harness: harness, devicesFile: file)
            try await harness.publish([
                testMessage(id: "p-1", device: "paused", minDelay: 0, maxDelay: 0),
                testMessage(id: "f-1", device: "free", minDelay: 0, maxDelay: 0),
            ])
            try await status.wait(timeout: .seconds(60)) { _ in status.statusEvents.sends().contains { $0.messageId == "f-1" } }
            try await Task.sleep(for: .seconds(2))
            #expect(log.perNumber[paused] == nil, "a paused device sent")
            #expect(worker.terminate() == 0)
            worker = try Self.worker("after-restart", harness: harness, devicesFile: file)
            try await harness.publish([testMessage(id: "f-2", device: "free", minDelay: 0, maxDelay: 0)])
            try await status.wait(timeout: .seconds(60)) { _ in status.statusEvents.sends().contains { $0.messageId == "f-2" } }
            try await Task.sleep(for: .seconds(2))
            #expect(log.perNumber[paused] == nil, "the pause did not survive the restart")
            #expect(try runBroadcast(["device", "resume", "paused"], harness: harness) == 0)
            try await status.wait(timeout: .seconds(30)) { _ in status.statusEvents.sends().contains { $0.messageId == "p-1" } }
            #expect(log.perNumber[paused] == 1)
            #expect(worker.terminate() == 0)
            await status.close()
        }
    }
}

/// Runs a `broadcast` command against the harness's cluster; returns its exit status.
func runBroadcast(_ arguments: [String], harness: ClusterHarness) throws -> Int32 {
    let process = Process()
    process.executableURL = try broadcastExecutable()
    process.arguments = arguments + ["--bootstrap-servers", harness.bootstrap, "--topic-prefix", harness.topics.prefix, "--log-level", "warning"]
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}
