import BroadcastModel
import BroadcastTesting
import Foundation
import Kafka
import Testing

/// Sleeping devices (quiet hours, far `scheduledAt`) with large backlogs ahead of awake devices on
/// the same partitions, with real worker processes on the embedded cluster: the sleepers are parked
/// (their records leave memory and the commit point moves past them) and read again when they wake.
@Suite("Sleeping devices across worker processes", .serialized, .timeLimit(.minutes(7)))
struct SleepingDevicesTests {
    /// A devices file of simulated devices whose quiet hours end at `end` (UTC, minute precision).
    static func quietDevicesFile(_ devices: [String], quietUntil end: Date) throws -> URL {
        let format = DateFormatter()
        format.timeZone = TimeZone(identifier: "UTC")
        format.dateFormat = "HH:mm"
        let (from, to) = (format.string(from: end.addingTimeInterval(-6 * 3_600)), format.string(from: end))
        var lines = ["devices:"]
        for device in devices {
            lines += ["  - id: \(device)", "    sender: simulated", "    timeZone: UTC", "    quietHours: { from: \"\(from)\", to: \"\(to)\" }"]
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sleepers-\(UUID().uuidString.prefix(8)).yaml")
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// The first whole minute at least `seconds` from now.
    static func minute(atLeast seconds: Double) -> Date {
        let earliest = Date().addingTimeInterval(seconds).timeIntervalSince1970
        return Date(timeIntervalSince1970: (earliest / 60).rounded(.up) * 60)
    }

    static func worker(_ name: String, harness: ClusterHarness, arguments: [String] = []) throws -> WorkerProcess {
        try WorkerProcess(
            name: name, bootstrap: harness.bootstrap, topicPrefix: harness.topics.prefix,
            arguments: ["--device-state", "on", "--sim-latency-ms", "2-3"] + arguments)
    }

    /// Sum of the worker group's committed offsets: with every record done, the number published.
    static func committedTotal(_ harness: ClusterHarness, partitions: Int) async throws -> Int64 {
        try await harness.committedOffsets(group: "broadcast-workers", partitions: partitions).values.reduce(0) { $0 + max(0, $1) }
    }

    static func sends(_ status: TopicFollower) -> [StatusEvent] {
        status.statusEvents.sends()
    }

    /// Each device's messages were first sent in the order of their index (ids `<device>-<index>`).
    static func expectInOrder(_ events: [StatusEvent], sourceLocation: SourceLocation = #_sourceLocation) {
        for (device, sends) in events.sentByDevice {
            var seen: Set<String> = []
            let indices = sends.filter { seen.insert($0.messageId).inserted }.compactMap { Int($0.messageId.split(separator: "-").last ?? "") }
            #expect(indices == indices.sorted(), "device \(device) sent out of order: \(indices.prefix(20))", sourceLocation: sourceLocation)
        }
    }

    @Test("a quiet-hours backlog ahead of awake devices: the awake ones send at their pace, nothing is pinned, the sleepers send in order when their window opens")
    func backlogAheadOfAwakeDevices() async throws {
        // The embedded cluster keeps about 5 MiB per partition: 16 hold the run's 66,000 records.
        let partitions = 16
        let harness = try ClusterHarness(partitions: partitions)
        let sleepers = (0..<16).map { "sleeper\($0)" }
        let awake = (0..<200).map { "awake\($0)" }
        // 64,000 sleeping messages first: more than the default bound on held records (30,000)
        // plus what the consumer has fetched ahead when that bound pauses it.
        let perSleeper = 4_000
        let backlog = (0..<perSleeper).flatMap { index in sleepers.map { testMessage(id: "\($0)-\(index)", device: $0) } }
        try await harness.publish(backlog)
        let awakeMessages = (0..<10).flatMap { index in awake.map { testMessage(id: "\($0)-\(index)", device: $0, minDelay: 0.1, maxDelay: 0.2) } }
        try await harness.publish(awakeMessages)
        let status = try harness.follow(harness.topics.status)
        // Set as the worker starts (publishing takes a while on a loaded machine), at least 100 s
        // away: the holds, decided in the worker's first seconds, exceed the default 60 s park threshold.
        let opens = Self.minute(atLeast: 100)
        let file = try Self.quietDevicesFile(sleepers, quietUntil: opens)
        defer { try? FileManager.default.removeItem(at: file) }
        let started = Date()
        let worker = try Self.worker("only", harness: harness, arguments: ["--devices", file.path])

        var awakeSent = 0
        while Date() < opens.addingTimeInterval(-5) {
            awakeSent = Set(Self.sends(status).filter { $0.deviceId.hasPrefix("awake") }.map(\.messageId)).count
            if awakeSent == awakeMessages.count { break }
            try await Task.sleep(for: .seconds(1))
        }
        let awakeTook = Date().timeIntervalSince(started)
        #expect(awakeSent == awakeMessages.count, "awake messages sent before the sleepers' window opened: \(awakeSent) of \(awakeMessages.count)")
        #expect(!Self.sends(status).contains { $0.deviceId.hasPrefix("sleeper") }, "a sleeper sent in its quiet hours")
        // Nothing pins the commit point: every record, the sleepers' included, is committed as done.
        let published = Int64(backlog.count + awakeMessages.count)
        var committed: Int64 = 0
        while Date() < opens.addingTimeInterval(-3) {
            committed = try await Self.committedTotal(harness, partitions: partitions)
            if committed == published { break }
            try await Task.sleep(for: .seconds(1))
        }
        #expect(committed == published, "committed \(committed) of \(published) records while the sleepers sleep")

        // The window opens: every sleeper's messages, once each, in order.
        let deadline = opens.addingTimeInterval(120)
        var sleeperSent = 0
        while Date() < deadline {
            sleeperSent = Set(Self.sends(status).filter { $0.deviceId.hasPrefix("sleeper") }.map(\.messageId)).count
            if sleeperSent == backlog.count { break }
            try await Task.sleep(for: .seconds(1))
        }
        #expect(worker.terminate() == 0)
        let events = Self.sends(status)
        // Each sleeper's waiting head was reported with the reason it waits.
        let waits = Set(status.statusEvents.filter { $0.status == .retrying && $0.reason == "quiet_hours" }.map(\.deviceId))
        await status.close()
        #expect(waits == Set(sleepers), "sleepers without a quiet_hours wait event: \(Set(sleepers).subtracting(waits).sorted())")
        let sleeperSends = events.filter { $0.deviceId.hasPrefix("sleeper") }
        let firstSleeperSend = sleeperSends.map(\.at).min()
        print("sleeping devices: \(awakeMessages.count) awake messages sent in \(String(format: "%.1f", awakeTook)) s behind \(backlog.count) sleeping ones; committed \(committed) of \(published) while asleep; \(sleeperSent) sleeper messages sent, first \(firstSleeperSend.map { String(format: "%.1f", $0.timeIntervalSince(opens)) } ?? "-") s after the window opened")
        #expect(sleeperSent == backlog.count)
        #expect(sleeperSends.count == backlog.count, "sleeper messages sent more than once: \(sleeperSends.count - sleeperSent)")
        #expect(sleeperSends.allSatisfy { $0.at >= opens.addingTimeInterval(-1) }, "a sleeper sent before its window opened")
        #expect(duplicatesPerDevice(events.filter { $0.deviceId.hasPrefix("awake") }).isEmpty)
        Self.expectInOrder(events)
    }

    enum Leave: String, CaseIterable, Sendable { case sigterm, sigkill }

    @Test("workers joining and leaving while devices sleep: nothing lost, nothing awake sent twice, sleepers in order", arguments: Leave.allCases)
    func handOverWhileAsleep(leave: Leave) async throws {
        let partitions = 6
        let harness = try ClusterHarness(partitions: partitions)
        let sleepers = (0..<12).map { "sleeper\($0)" }
        let awake = (0..<60).map { "awake\($0)" }
        let wakeAt = Date().addingTimeInterval(40)
        let perSleeper = 300
        let backlog = (0..<perSleeper).flatMap { index in sleepers.map { testMessage(id: "\($0)-\(index)", device: $0, scheduledAt: wakeAt) } }
        try await harness.publish(backlog)
        let firstRound = (0..<5).flatMap { index in awake.map { testMessage(id: "\($0)-\(index)", device: $0, minDelay: 0.1, maxDelay: 0.2) } }
        try await harness.publish(firstRound)
        let status = try harness.follow(harness.topics.status)
        // Parked when their wait exceeds 10 s (the default 60 s would make this test a minute longer).
        let park = ["--park-after-seconds", "10"]
        let first = try Self.worker("first", harness: harness, arguments: park)
        try await status.wait(timeout: .seconds(30)) { _ in Set(Self.sends(status).map(\.messageId)).count >= firstRound.count }
        let second = try Self.worker("second", harness: harness, arguments: park)
        // The second worker joins; once it sends, the group has rebalanced and both own partitions.
        let secondRound = (5..<10).flatMap { index in awake.map { testMessage(id: "\($0)-\(index)", device: $0, minDelay: 0.1, maxDelay: 0.2) } }
        try await harness.publish(secondRound)
        try await status.wait(timeout: .seconds(30)) { _ in Self.sends(status).contains { $0.worker == "second" } }
        switch leave {
        case .sigterm: #expect(first.terminate() == 0)
        case .sigkill: first.kill()
        }
        let thirdRound = (10..<15).flatMap { index in awake.map { testMessage(id: "\($0)-\(index)", device: $0, minDelay: 0.1, maxDelay: 0.2) } }
        try await harness.publish(thirdRound)
        let total = backlog.count + firstRound.count + secondRound.count + thirdRound.count
        try await status.wait(timeout: .seconds(150)) { _ in Set(Self.sends(status).map(\.messageId)).count >= total }
        #expect(second.terminate() == 0)
        let events = Self.sends(status)
        await status.close()
        let unique = Set(events.map(\.messageId))
        let sleeperSends = events.filter { $0.deviceId.hasPrefix("sleeper") }
        let repeats = duplicatesPerDevice(events)
        print("sleeping devices, \(leave.rawValue) while asleep: \(unique.count) of \(total) sent, repeats per device \(repeats.sorted { $0.key < $1.key }), sleeper sends by \(Set(sleeperSends.compactMap(\.worker)).sorted())")
        #expect(unique.count == total, "messages lost: \(total - unique.count)")
        #expect(sleeperSends.allSatisfy { $0.at >= wakeAt.addingTimeInterval(-0.01) }, "a sleeper sent before its scheduledAt")
        switch leave {
        case .sigterm: #expect(repeats.isEmpty, "a clean hand-over repeated sends: \(repeats)")
        case .sigkill: #expect(repeats.values.allSatisfy { $0 <= 1 }, "more than one repeat per device after SIGKILL: \(repeats)")
        }
        Self.expectInOrder(events)
    }
}
