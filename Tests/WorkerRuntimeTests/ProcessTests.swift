import BroadcastModel
import BroadcastTesting
import Foundation
import Kafka
import Testing

/// `broadcast worker` processes against the in-process embedded cluster over TCP.
final class WorkerProcess: Sendable {
    let name: String
    private let process: Process

    convenience init(name: String, harness: ClusterHarness) throws {
        try self.init(name: name, bootstrap: harness.bootstrap, topicPrefix: harness.topics.prefix)
    }

    /// - Parameters:
    ///   - log: where the worker's log goes (info, or `BROADCAST_LOG_LEVEL`); nil: warnings to the test's stderr.
    ///   - arguments: more `broadcast worker` options; `environment`: added to the test's own.
    init(
        name: String, bootstrap: String, topicPrefix: String, log: URL? = nil, arguments: [String] = [],
        environment: [String: String] = [:]
    ) throws {
        self.name = name
        process = Process()
        process.executableURL = try broadcastExecutable()
        process.arguments = [
            "worker", "--bootstrap-servers", bootstrap, "--topic-prefix", topicPrefix,
            "--worker-name", name, "--session-timeout-ms", "6000", "--commit-interval-ms", "100",
            "--sim-latency-ms", "20-60", "--log-level", log == nil ? "warning" : ProcessInfo.processInfo.environment["BROADCAST_LOG_LEVEL"] ?? "info", "--kafka", "reconnect.backoff.max.ms=1000",
        ] + arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        process.standardOutput = FileHandle.nullDevice
        if let log {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: log)
        }
        try process.run()
    }

    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, then waits for a clean exit: within the worker's shutdown grace (30 s) and a margin,
    /// or the test fails here (SIGKILL, status -1) rather than waiting forever.
    func terminate() -> Int32 {
        process.terminate()
        guard exits(process, within: .seconds(60)) else {
            Issue.record("worker \(name) did not exit within 60 s of SIGTERM")
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return -1
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }
}

/// Waits for `process` to end, at most `limit`; returns whether it ended.
func exits(_ process: Process, within limit: Duration) -> Bool {
    let deadline = ContinuousClock.now + limit
    while process.isRunning {
        guard ContinuousClock.now < deadline else { return false }
        Thread.sleep(forTimeInterval: 0.02)
    }
    process.waitUntilExit()
    return true
}

/// The `broadcast` executable built beside the test bundle.
func broadcastExecutable() throws -> URL {
    let candidates = [
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("broadcast"),
        Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("broadcast"),
    ]
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: candidates[0].path])
    }
    return found
}

extension HandOverTests {
@Suite("Worker processes: crash and restart")
struct ProcessTests {
    @Test("a worker killed with SIGKILL: nothing lost, at most one duplicate per device it owned")
    func crash() async throws {
        let harness = try ClusterHarness(partitions: 6)
        let devices = (0..<30).map { "dev-\($0)" }
        let messages = (0..<8).flatMap { round in
            devices.map { testMessage(id: "m-\($0)-\(round)", device: $0, minDelay: 0.5, maxDelay: 0.8) }
        }
        try await harness.publish(messages)
        let status = try harness.follow(harness.topics.status)
        let workers = try (1...3).map { try WorkerProcess(name: "p\($0)", harness: harness) }
        // Kill one once the work is well under way.
        try await status.wait(timeout: .seconds(60)) { _ in status.statusEvents.sends().count >= 60 }
        let victim = workers[1]
        victim.kill()
        try await status.wait(timeout: .seconds(120)) { _ in status.statusEvents.finals.count >= messages.count }
        for worker in [workers[0], workers[2]] { #expect(worker.terminate() == 0) }
        await status.close()

        let events = status.statusEvents
        let sent = events.sends()
        let ids = Set(sent.map(\.messageId))
        #expect(ids.count == messages.count, "lost: \(messages.count - ids.count)")
        let ownedByVictim = Set(sent.filter { $0.worker == victim.name }.map(\.deviceId))
        #expect(!ownedByVictim.isEmpty)
        // The killed worker's devices repeat at most the one send it made but had not committed.
        // On a real broker the survivors hand over cleanly; the embedded (mock) cluster refuses
        // their commit during the rebalance, so their devices may repeat one send too.
        let duplicates = duplicatesPerDevice(events)
        print("crash duplicates per device: \(duplicates.sorted { $0.key < $1.key }), killed worker owned \(ownedByVictim.count) devices")
        #expect(duplicates.values.allSatisfy { $0 <= 1 }, "duplicates per device: \(duplicates)")
        expectOrderAndPacing(events, minGap: 0.5)
    }

    @Test("SIGTERM then restart: nothing lost; the stopped worker repeats nothing")
    func terminateAndRestart() async throws {
        let harness = try ClusterHarness(partitions: 4)
        let devices = (0..<20).map { "dev-\($0)" }
        let messages = (0..<6).flatMap { round in
            devices.map { testMessage(id: "m-\($0)-\(round)", device: $0, minDelay: 0.3, maxDelay: 0.6) }
        }
        try await harness.publish(messages)
        let status = try harness.follow(harness.topics.status)
        let stays = try WorkerProcess(name: "stays", harness: harness)
        let restarted = try WorkerProcess(name: "restarted-1", harness: harness)
        try await status.wait(timeout: .seconds(60)) { _ in status.statusEvents.sends().count >= 40 }
        #expect(restarted.terminate() == 0, "SIGTERM must end the worker cleanly")
        let again = try WorkerProcess(name: "restarted-2", harness: harness)
        try await status.wait(timeout: .seconds(120)) { _ in status.statusEvents.finals.count >= messages.count }
        #expect(stays.terminate() == 0)
        #expect(again.terminate() == 0)
        await status.close()

        let events = status.statusEvents
        let sent = events.sends()
        #expect(Set(sent.map(\.messageId)).count == messages.count, "lost: \(messages.count - Set(sent.map(\.messageId)).count)")
        // The stopped worker finished its sends and committed before leaving: nothing it sent is sent again.
        let byStopped = Set(sent.filter { $0.worker == "restarted-1" }.map(\.messageId))
        let uniqueSends = events.sentByDevice.values.flatMap { $0 }
        let repeated = Dictionary(grouping: uniqueSends, by: \.messageId).filter { $0.value.count > 1 }.keys
        #expect(byStopped.isDisjoint(with: repeated), "sent again after SIGTERM: \(byStopped.intersection(repeated))")
        // The workers that stayed hand over through the mock's refused commits (see the join/leave test).
        let duplicates = duplicatesPerDevice(events)
        print("SIGTERM/restart: \(duplicates.values.reduce(0, +)) repeated sends \(duplicates.sorted { $0.key < $1.key })")
        #expect(duplicates.values.allSatisfy { $0 <= 1 }, "duplicates per device: \(duplicates)")
        expectOrderAndPacing(events, minGap: 0.3)
    }
}
}
