import BroadcastModel
import BroadcastTesting
import Console
import DevicePolicies
import Foundation
import Kafka
import Operations
import Senders
import Testing
import WorkerRuntime

/// Headless Chromium (Debian's `chromium`, installed by scripts/setup, which scripts/test checks)
/// against a console on the embedded cluster with a real worker sending a campaign.
enum Browser {
    static let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
}

@Suite(.serialized) struct BrowserTests {
    @Test(.enabled(if: Browser.chromium != nil, "chromium is not installed: run scripts/setup"))
    func campaignPageShowsTheAPINumbersAndPauseStopsTheWorker() async throws {
        let harness = try await ConsoleHarness(refreshMilliseconds: 500)
        let topics = harness.cluster.topics
        let client = KafkaClientOptions(bootstrapServers: harness.cluster.bootstrap, properties: ["reconnect.backoff.max.ms": "1000"])
        let control = try await CampaignControlFollower(client: client, topics: topics)
        try await control.start()

        // 4 devices × 30 messages, 1–1.5 s apart per device: about 40 s of sending.
        let campaign = "browser-demo"
        let now = Date()
        var messages: [BroadcastMessage] = []
        for index in 0..<120 {
            messages.append(BroadcastMessage(
                id: "cmp-\(campaign)-\(index)", userId: "user-a", deviceId: "dev-\(index % 4)", source: .campaign, campaignId: campaign,
                recipient: .init(phone: "+6011\(String(format: "%08d", 20_000_000 + index))", name: "Customer \(index)"),
                content: .init(type: .text, text: "Hello from the browser test"), delay: .init(minSeconds: 1, maxSeconds: 1.5),
                scheduledAt: now, createdAt: now))
        }
        try await harness.publish(messages.map { StatusEvent(for: $0, status: .queued, at: now) })
        try await harness.cluster.publish(messages)

        var configuration = WorkerConfiguration(topics: topics, workerName: "browser-worker")
        configuration.commitInterval = .milliseconds(100)
        var sender = SimulatedSender.Configuration()
        sender.minLatencyMilliseconds = 20
        sender.maxLatencyMilliseconds = 60
        let worker = try DeviceWorkerService(
            configuration: configuration, consumer: harness.cluster.workerConsumerConfiguration(group: "browser-workers"),
            producer: harness.cluster.producer, senders: SingleSenderDirectory(SimulatedSender(configuration: sender)),
            policy: CampaignControlPolicy(wrapping: PassThroughPolicy(), control: control, recheckInterval: 0.5))
        let running = Task { try await worker.run() }

        func sent() async throws -> Int {
            let detail = try await harness.get("/api/v1/campaigns/\(campaign)", token: TestTokens.operator)
            return counts((try detail.json()["summary"] as? [String: Any])?["counts"])["sent"] ?? 0
        }
        let sending = try await eventually(timeout: .seconds(40)) { try await sent() >= 4 }
        #expect(sending, "the worker never started sending")

        // The browser: sign in, compare numbers, click Pause, screenshot.
        let screenshot = repositoryRoot.appendingPathComponent(".build/console-screenshot.png").path
        let script = Process()
        script.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        script.arguments = ["python3", repositoryRoot.appendingPathComponent(".ci/console-browser.py").path]
        var environment = ProcessInfo.processInfo.environment
        environment["CONSOLE_URL"] = harness.baseURL
        environment["CONSOLE_TOKEN"] = TestTokens.operator
        environment["CAMPAIGN_ID"] = campaign
        environment["SCREENSHOT"] = screenshot
        environment["CHROMIUM"] = Browser.chromium
        script.environment = environment
        let output = Pipe()
        script.standardOutput = output
        try script.run()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        script.waitUntilExit()
        #expect(script.terminationStatus == 0, "browser script: \(printed)")
        #expect(printed.contains("\"ok\": true"), "\(printed)")
        #expect(printed.contains("\"cookies\": \"\""), "the console sets no cookies")
        #expect(FileManager.default.fileExists(atPath: screenshot))

        // The click published a pause the worker obeys: sends stop while messages are left...
        #expect(try await eventually { control.latestAction(for: campaign) == .pause }, "the worker never saw the pause")
        var last = try await sent()
        var stableSince = ContinuousClock.now
        let settled = try await eventually(timeout: .seconds(30)) {
            let current = try await sent()
            if current != last {
                last = current
                stableSince = .now
            }
            // Three times the longest gap with no send: the lanes are holding, not between sends.
            return ContinuousClock.now - stableSince >= .seconds(4.5)
        }
        #expect(settled, "sends never stopped after the pause (still at \(last))")
        let pausedAt = try await sent()
        #expect(pausedAt < messages.count, "everything was sent before the pause took effect")

        // ...and resume lets them go on.
        #expect(try await harness.post("/api/v1/campaigns/\(campaign)/resume", token: TestTokens.operator).status == 200)
        let resumed = try await eventually(timeout: .seconds(30)) { try await sent() > pausedAt }
        #expect(resumed, "sending did not continue after resume")

        worker.shutdown()
        _ = await running.result
        await control.stop()
        await harness.close()
    }
}
