import BroadcastModel
import BroadcastTesting
import Foundation
import Kafka
import NIOCore
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
        let requests = Locked<[(phoneNumberId: String, to: String, at: Date)]>([])

        func record(_ request: StubHTTPServer.Request) {
            let parts = request.path.split(separator: "/")
            guard parts.count >= 2 else { return }
            let to = (try? request.json())?["to"] as? String ?? ""
            requests.withLock { $0.append((String(parts[parts.count - 2]), to, Date())) }
        }

        /// Request times per phone number id and recipient, in order.
        var timesPerPair: [String: [Date]] {
            requests.withLock { Dictionary(grouping: $0, by: { "\($0.phoneNumberId)>\($0.to)" }).mapValues { $0.map(\.at).sorted() } }
        }

        var total: Int { requests.withLock { $0.count } }
        /// Request times per phone number id, in order.
        var timesPerNumber: [String: [Date]] {
            requests.withLock { Dictionary(grouping: $0, by: \.phoneNumberId).mapValues { $0.map(\.at).sorted() } }
        }
        var perNumber: [String: Int] {
            requests.withLock { Dictionary($0.map { ($0.phoneNumberId, 1) }, uniquingKeysWith: +) }
        }
    }

    /// Each device is a Cloud API number on the stand-in; its phone number id is ``number(of:)``.
    static func writeDevicesFile(
        devices: [String], baseURL: String, capped: Bool = true, header: [String] = [], extra: (String) -> [String] = { _ in [] }
    ) throws -> URL {
        var lines = header + ["devices:"]
        for device in devices {
            lines += [
                "  - id: \(device)", "    sender: whatsapp-cloud", "    phoneNumberId: \"\(number(of: device, in: devices))\"",
                "    tokenEnv: DEVICE_STATE_WA_TOKEN", "    baseURL: \(baseURL)",
            ]
            if capped { lines.append("    caps: { hourly: \(hourlyCap) }") }
            lines += extra(device).map { "    " + $0 }
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("devices-\(UUID().uuidString.prefix(8)).yaml")
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    static func number(of device: String, in devices: [String]) -> String {
        String(1_000 + (devices.firstIndex(of: device) ?? 0))
    }

    static func worker(_ name: String, harness: ClusterHarness, devicesFile: URL, arguments: [String] = []) throws -> WorkerProcess {
        try WorkerProcess(
            name: name, bootstrap: harness.bootstrap, topicPrefix: harness.topics.prefix,
            arguments: ["--devices", devicesFile.path, "--device-state", "on"] + arguments,
            environment: ["DEVICE_STATE_WA_TOKEN": token])
    }

    /// Logs each request as it arrives, then answers (after `delay`, a provider slow to confirm).
    /// Requests for the phone number id `banning` get Meta's spam rate limit (131048), a ban-like
    /// error that pauses the number (15 min at the first strike).
    static func cloudAnswer(_ log: RequestLog, delay: TimeAmount? = nil, banning: String? = nil) -> StubHTTPServer.Responder {
        { request, index in
            log.record(request)
            if let banning, request.path.contains("/\(banning)/") {
                return .json(400, #"{"error":{"message":"Spam rate limit hit","type":"OAuthException","code":131048,"fbtrace_id":"x"}}"#)
            }
            return .json(200, #"{"messaging_product":"whatsapp","contacts":[],"messages":[{"id":"wamid.ds-\#(index)"}]}"#, delay: delay)
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

    @Test("a worker killed while its sends are at the provider: caps still hold at the provider")
    func capsSurviveAKillMidSend() async throws {
        let log = RequestLog()
        // The provider takes a second to answer: at the kill, the victim's devices each have a
        // request the provider has counted and the victim has not heard back about.
        try await StubHTTPServer.with(Self.cloudAnswer(log, delay: .seconds(1))) { server in
            let harness = try ClusterHarness(partitions: 4)
            let capped = (0..<12).map { "midsend-\($0)" }
            let file = try Self.writeDevicesFile(devices: capped, baseURL: "http://127.0.0.1:\(server.port)")
            defer { try? FileManager.default.removeItem(at: file) }
            let messages = (0..<(2 * Self.hourlyCap)).flatMap { round in
                capped.map { testMessage(id: "k-\($0)-\(round)", device: $0, minDelay: 0, maxDelay: 0) }
            }
            try await harness.publish(messages)
            let status = try harness.follow(harness.topics.status)
            let victim = try Self.worker("victim", harness: harness, devicesFile: file)
            // The victim owns every device; killed once the devices' second requests reach the
            // provider, while it waits for their answers.
            let deadline = ContinuousClock.now + .seconds(90)
            while log.total < capped.count + 4, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            try #require(log.total >= capped.count + 4, "the victim never sent")
            victim.kill()
            let inFlightAtKill = log.total - capped.count
            let survivor = try Self.worker("survivor", harness: harness, devicesFile: file)
            let full = capped.count * Self.hourlyCap
            try await status.wait(timeout: .seconds(90)) { _ in log.total >= full }
            try await Task.sleep(for: .seconds(4))
            let counts = log.perNumber
            #expect(survivor.terminate() == 0)
            await status.close()
            print("device state, SIGKILL mid-send (\(inFlightAtKill) requests in flight): provider requests per number \(counts.sorted { $0.key < $1.key })")
            #expect(counts.values.allSatisfy { $0 <= Self.hourlyCap }, "over the cap at the provider after a kill mid-send: \(counts)")
        }
    }

    @Test("pacing across a hand-over, measured at the provider: no gap shorter than minSeconds")
    func pacingAcrossHandOver() async throws {
        let log = RequestLog()
        try await StubHTTPServer.with(Self.cloudAnswer(log)) { server in
            let harness = try ClusterHarness(partitions: 4)
            let devices = (0..<8).map { "paced-\($0)" }
            let file = try Self.writeDevicesFile(devices: devices, baseURL: "http://127.0.0.1:\(server.port)", capped: false)
            defer { try? FileManager.default.removeItem(at: file) }
            let gap = 2.0
            let messages = (0..<5).flatMap { round in
                devices.map { testMessage(id: "m-\($0)-\(round)", device: $0, minDelay: gap, maxDelay: gap + 0.2) }
            }
            try await harness.publish(messages)
            let status = try harness.follow(harness.topics.status)
            let first = try Self.worker("first", harness: harness, devicesFile: file)
            let second = try Self.worker("second", harness: harness, devicesFile: file)
            try await status.wait(timeout: .seconds(60)) { _ in status.statusEvents.sends().count >= 2 * devices.count }
            #expect(first.terminate() == 0)
            try await status.wait(timeout: .seconds(90)) { _ in Set(status.statusEvents.sends().map(\.messageId)).count >= messages.count }
            #expect(second.terminate() == 0)
            await status.close()
            let gaps = log.timesPerNumber.values.flatMap { times in zip(times, times.dropFirst()).map { $1.timeIntervalSince($0) } }
            print("pacing across hand-over at the provider: \(gaps.count) gaps, shortest \(gaps.min() ?? 0) s, longest \(gaps.max() ?? 0) s (gap \(gap)–\(gap + 0.2) s)")
            #expect(gaps.count >= messages.count - devices.count)
            #expect(gaps.allSatisfy { $0 >= gap - 0.01 }, "a gap shorter than \(gap) s at the provider: \(gaps.sorted().prefix(5))")
        }
    }

    @Test("Cloud API limits under a burst from many devices: per-number throughput and the same-phone gap hold at the provider")
    func providerLimitsUnderBurst() async throws {
        let log = RequestLog()
        try await StubHTTPServer.with(Self.cloudAnswer(log)) { server in
            let harness = try ClusterHarness(partitions: 4)
            let rated = (0..<4).map { "rated-\($0)" }
            let paired = (0..<4).map { "paired-\($0)" }
            let devices = rated + paired
            let (rate, gap) = (4.0, 1.5)
            let file = try Self.writeDevicesFile(devices: devices, baseURL: "http://127.0.0.1:\(server.port)", capped: false) { device in
                device.hasPrefix("rated-") ? ["messagesPerSecond: \(rate)", "samePhoneGapSeconds: 0"] : ["samePhoneGapSeconds: \(gap)"]
            }
            defer { try? FileManager.default.removeItem(at: file) }
            // No pacing gaps at all (Cloud API numbers need none): only the provider limits slow them.
            let burst = (0..<12).flatMap { index in
                rated.map { testMessage(id: "\($0)-\(index)", device: $0, phone: "+6012345\(String(format: "%04d", index))") }
                    + paired.map { testMessage(id: "\($0)-\(index)", device: $0, phone: index % 2 == 0 ? "+60123450001" : "+60123450002") }
            }
            try await harness.publish(burst)
            let status = try harness.follow(harness.topics.status)
            let worker = try Self.worker("limits", harness: harness, devicesFile: file)
            try await status.wait(timeout: .seconds(90)) { _ in Set(status.statusEvents.sends().map(\.messageId)).count >= burst.count }
            #expect(worker.terminate() == 0)
            await status.close()

            let perNumber = log.timesPerNumber
            for device in rated {
                let times = try #require(perNumber[Self.number(of: device, in: devices)])
                #expect(times.count == 12)
                // A bucket of one second's worth (4) refilling at 4/s: send i (from 0) no earlier than (i + 1 - 4) / 4 s.
                for (index, time) in times.enumerated() where index >= 4 {
                    let earliest = Double(index + 1 - 4) / rate
                    #expect(time.timeIntervalSince(times[0]) >= earliest - 0.05, "\(device): send \(index) after \(time.timeIntervalSince(times[0])) s")
                }
            }
            let pairGaps = log.timesPerPair.filter { key, _ in paired.contains { key.hasPrefix(Self.number(of: $0, in: devices) + ">") } }
                .values.flatMap { times in zip(times, times.dropFirst()).map { $1.timeIntervalSince($0) } }
            print("provider limits: shortest same-phone gap \(pairGaps.min() ?? 0) s over \(pairGaps.count) gaps (limit \(gap) s)")
            #expect(pairGaps.count == paired.count * 10)
            #expect(pairGaps.allSatisfy { $0 >= gap - 0.01 }, "same phone sooner than \(gap) s: \(pairGaps.sorted().prefix(4))")
        }
    }

    @Test("a warm-up day's allowance and a ban-like pause survive a restart of every worker, counted at the provider")
    func warmUpAndBanLikePauseSurviveRestart() async throws {
        let log = RequestLog()
        let devices = ["warm", "banned", "free"]
        let (warm, banned) = (Self.number(of: "warm", in: devices), Self.number(of: "banned", in: devices))
        try await StubHTTPServer.with(Self.cloudAnswer(log, banning: banned)) { server in
            let harness = try ClusterHarness(partitions: 2)
            let file = try Self.writeDevicesFile(devices: devices, baseURL: "http://127.0.0.1:\(server.port)", capped: false) { device in
                device == "warm" ? ["caps: { warmup: { start: 2 } }"] : []
            }
            defer { try? FileManager.default.removeItem(at: file) }
            func message(_ id: String, _ device: String, _ index: Int) -> BroadcastMessage {
                testMessage(id: id, device: device, phone: "+60127\(String(format: "%06d", index))")
            }
            // A new number may send 2 on its first day; the banned one is paused by its first answer.
            try await harness.publish(
                (0..<5).map { message("w-\($0)", "warm", $0) } + (0..<3).map { message("b-\($0)", "banned", 10 + $0) }
                    + [message("f-1", "free", 20)])
            // Not parked: the held messages stay uncommitted, so the new process meets them and only
            // the device state can hold them back (with it off, it sends them: 4 and 2 requests).
            func worker(_ name: String) throws -> WorkerProcess {
                try Self.worker(name, harness: harness, devicesFile: file, arguments: ["--park-after-seconds", "0"])
            }
            let status = try harness.follow(harness.topics.status)
            var process = try worker("before-restart")
            try await status.wait(timeout: .seconds(60)) { _ in
                let events = status.statusEvents
                return events.sends().contains { $0.messageId == "f-1" } && events.contains { $0.messageId == "b-0" && $0.status == .failed }
            }
            try await Task.sleep(for: .seconds(2))
            #expect(log.perNumber[warm] == 2 && log.perNumber[banned] == 1, "before the restart: \(log.perNumber)")
            #expect(process.terminate() == 0)

            process = try worker("after-restart")
            try await harness.publish([message("f-2", "free", 21)])
            try await status.wait(timeout: .seconds(60)) { _ in status.statusEvents.sends().contains { $0.messageId == "f-2" } }
            // The held messages are the new process's now: give it time to (wrongly) send them.
            try await Task.sleep(for: .seconds(3))
            let after = log.perNumber
            #expect(process.terminate() == 0)
            await status.close()
            print("warm-up and pause across a restart: provider requests per number \(after.sorted { $0.key < $1.key })")
            #expect(after[warm] == 2, "the warm-up allowance started over after the restart: \(after)")
            #expect(after[banned] == 1, "the ban-like pause did not survive the restart: \(after)")
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
    guard exits(process, within: .seconds(120)) else {
        Issue.record("broadcast \(arguments.joined(separator: " ")) did not exit within 120 s")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return -1
    }
    return process.terminationStatus
}
