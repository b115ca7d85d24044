import BroadcastTesting
import AntiSpam
import BroadcastModel
import DevicePolicies
import Foundation
import HTTPSenders
import Kafka
import Senders
import Testing
import WorkerRuntime

/// Records what the real policy decided, so a test can see holds (they publish no status).
final class RecordingPolicy: SendPolicy {
    struct Entry: Sendable {
        var messageId: String
        var decision: PolicyDecision
        var at: Date
    }

    let inner: AntiSpamPolicy
    let entries = Locked<[Entry]>([])

    init(_ inner: AntiSpamPolicy) { self.inner = inner }

    func decide(_ message: BroadcastMessage, attempt: Int, now: Date) -> PolicyDecision {
        let decision = inner.decide(message, attempt: attempt, now: now)
        entries.withLock { $0.append(Entry(messageId: message.id, decision: decision, at: now)) }
        return decision
    }

    func didSend(_ message: BroadcastMessage, at: Date) { inner.didSend(message, at: at) }
    func didFail(_ message: BroadcastMessage, failure: SendFailure, at: Date) -> Date? {
        inner.didFail(message, failure: failure, at: at)
    }

    func decisions(of messageId: String) -> [PolicyDecision] {
        entries.value.filter { $0.messageId == messageId }.map(\.decision)
    }
}

@Suite("Worker with AntiSpamPolicy, Cloud API senders on a local server, embedded Kafka", .serialized, .timeLimit(.minutes(3)))
struct WorkerEndToEndTests {
    static let token = "EAAG-e2e-token-0123456789"
    static let optedOut = "+60123450009"
    static let coolOff: TimeInterval = 4

    static func devicesYAML(baseURL: String) -> String {
        """
        devices:
          - id: dev-cloud
            sender: whatsapp-cloud
            phoneNumberId: "111"
            tokenEnv: E2E_WA_TOKEN
            baseURL: \(baseURL)
            timeZone: Asia/Kuala_Lumpur
            locale: ms
          - id: dev-ban
            sender: whatsapp-cloud
            phoneNumberId: "222"
            tokenEnv: E2E_WA_TOKEN
            baseURL: \(baseURL)
        """
    }

    static let spamError = #"{"error":{"message":"(#131048) Spam rate limit hit","type":"OAuthException","code":131048,"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because there are restrictions on how many messages can be sent from this phone number."},"fbtrace_id":"AbC"}}"#

    /// dev-cloud always succeeds; dev-ban's first send is a spam-rate-limit error, later ones succeed.
    static func respond(_ request: StubHTTPServer.Request, _ index: Int, banAnswered: Locked<Bool>) -> StubHTTPServer.Response {
        if request.path.contains("/222/"), banAnswered.withLock({ answered in defer { answered = true }; return !answered }) {
            return .json(400, spamError)
        }
        return .json(200, #"{"messaging_product":"whatsapp","contacts":[],"messages":[{"id":"wamid.e2e-\#(index)"}]}"#)
    }

    static func message(
        _ id: String, device: String, phone: String, name: String?, text: String, greeting: Bool = false,
        attributes: [String: String]? = nil, delay: Double = 0
    ) -> BroadcastMessage {
        BroadcastMessage(
            id: id, userId: "user-1", deviceId: device, source: .campaign, campaignId: "cmp-e2e",
            recipient: .init(phone: phone, name: name),
            content: .init(type: .text, text: text, greeting: greeting),
            delay: .init(minSeconds: delay, maxSeconds: delay),
            scheduledAt: Date(timeIntervalSinceNow: -1), createdAt: Date(), attributes: attributes
        )
    }

    @Test("rendered text and token reach the server, wamids come back, opt-outs are skipped, a ban-like answer pauses only its device")
    func endToEnd() async throws {
        let banAnswered = Locked(false)
        let server = try await StubHTTPServer.start { request, index in Self.respond(request, index, banAnswered: banAnswered) }
        let harness = try ClusterHarness(partitions: 2)

        // Devices file pointing at the local server; the token comes from the environment.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let devicesPath = folder.appendingPathComponent("devices.yaml").path
        try Self.devicesYAML(baseURL: server.baseURL).write(toFile: devicesPath, atomically: true, encoding: .utf8)
        let devices = try DevicesFile.load(path: devicesPath, environment: ["E2E_WA_TOKEN": Self.token])
        let registry = SenderRegistry(devices: devices, defaultSender: .simulated)

        // Opt-outs written as people type them: on the topic without the "+", and in the file with
        // spaces and dashes (a list the publisher accepts). The follower reads the topic from the beginning.
        _ = try await harness.producer.send(OptOutRecord.record(topic: harness.topics.optOuts, phone: "60123450009", optedOut: true))
        let optOutPath = folder.appendingPathComponent("optout.csv").path
        try "name,mobile\nFile,+60 12-345 0008 # asked by mail\nOther,60123450007\n".write(toFile: optOutPath, atomically: true, encoding: .utf8)
        let store = try OptOutStore.loading(file: optOutPath)
        let follower = try OptOutFollower(
            client: KafkaClientOptions(bootstrapServers: harness.bootstrap), topic: harness.topics.optOuts, store: store
        )
        try follower.start()
        #expect(await follower.waitUntilCaughtUp(timeout: .seconds(30)))
        #expect(store.contains(Self.optedOut))

        let policy = RecordingPolicy(AntiSpamPolicy(
            configuration: .init(profiles: try DeviceProfiles(devicesFile: devices), health: .init(baseCoolOff: Self.coolOff)),
            optOuts: store
        ))
        var configuration = WorkerConfiguration(topics: harness.topics, workerName: "e2e-worker")
        configuration.commitInterval = .milliseconds(100)
        let worker = try DeviceWorkerService(
            configuration: configuration, consumer: harness.workerConsumerConfiguration(group: "e2e-workers"),
            producer: harness.producer, senders: RegistrySenderDirectory(registry), policy: policy
        )
        let status = try harness.follow(harness.topics.status)
        let running = Task { try await worker.run() }

        let messages = [
            Self.message("c-1", device: "dev-cloud", phone: "+60123450001", name: "aisha", text: "Hi {name}, your code is {code}.",
                         attributes: ["code": "X42"], delay: 1),
            Self.message("c-2", device: "dev-cloud", phone: Self.optedOut, name: "Opted", text: "Should never arrive", delay: 1),
            Self.message("c-4", device: "dev-cloud", phone: "+60123450008", name: "Filed", text: "Should never arrive either", delay: 1),
            Self.message("c-5", device: "dev-cloud", phone: "+60123450007", name: "Other", text: "Nor this", delay: 1),
            Self.message("c-3", device: "dev-cloud", phone: "+60123450003", name: "ben", text: "Promo {A|B} for {name}", greeting: true, delay: 1),
            Self.message("b-1", device: "dev-ban", phone: "+60123450011", name: "cai", text: "First from dev-ban"),
            Self.message("b-2", device: "dev-ban", phone: "+60123450012", name: "dan", text: "Second from dev-ban"),
        ]
        try await harness.publish(messages)
        try await status.wait(timeout: .seconds(90)) { _ in status.finals.count == messages.count }

        worker.shutdown()
        try await running.value
        await registry.shutdown()
        await follower.close()
        await status.close()
        await server.stop()
        await harness.producer.close()

        let finals = status.finals
        #expect(finals.count == messages.count, "finals: \(finals.mapValues(\.status))")

        // Rendered text, bearer token and the provider id round trip.
        let requests = server.requests
        let cloudRequests = requests.filter { $0.path.hasSuffix("/111/messages") }
        #expect(cloudRequests.count == 2)
        for request in requests {
            #expect(request.header("Authorization") == "Bearer \(Self.token)")
        }
        let c1 = try #require(cloudRequests.first { (try? $0.json())?["to"] as? String == "60123450001" })
        let c1Body = try #require((try c1.json())["text"] as? [String: Any])
        #expect(c1Body["body"] as? String == "Hi Aisha, your code is X42.")
        let c1Index = try #require(requests.firstIndex { $0.body == c1.body })
        #expect(finals["c-1"]?.status == .sent)
        #expect(finals["c-1"]?.providerMessageId == "wamid.e2e-\(c1Index)")

        let c3 = try #require(cloudRequests.first { (try? $0.json())?["to"] as? String == "60123450003" })
        let c3Text = try #require(((try c3.json())["text"] as? [String: Any])?["body"] as? String)
        let c3Lines = c3Text.split(separator: "\n").map(String.init)
        #expect(c3Lines.count == 2)
        #expect(["Promo A for Ben", "Promo B for Ben"].contains(c3Lines.last ?? ""))
        // The greeting is the Malay one for the time of day in Kuala Lumpur.
        let sentAt = try #require(finals["c-3"]?.at)
        let kl = try #require(TimeZone(identifier: "Asia/Kuala_Lumpur"))
        let candidates = [sentAt, sentAt.addingTimeInterval(-2)].map {
            Greeting.text(locale: "ms", name: "ben", at: $0, timeZone: kl, seed: "c-3")
        }
        #expect(candidates.contains(c3Lines.first ?? ""))

        // The opted-out phones (topic and file, in any written form) were never sent to.
        for id in ["c-2", "c-4", "c-5"] {
            #expect(finals[id]?.status == .skipped, "\(id)")
            #expect(finals[id]?.reason == "opt_out", "\(id)")
        }
        for phone in ["60123450009", "60123450008", "60123450007"] {
            #expect(!requests.contains { (try? $0.json())?["to"] as? String == phone }, "\(phone) was messaged")
        }

        // dev-ban: the ban-like answer fails b-1 and pauses the device; b-2 is held, then sent after the cool-off.
        let failed = try #require(finals["b-1"])
        #expect(failed.status == .failed)
        #expect(failed.error?.code == "131048")
        let resumed = try #require(finals["b-2"])
        #expect(resumed.status == .sent)
        #expect(resumed.at.timeIntervalSince(failed.at) >= Self.coolOff - 0.01)
        #expect(policy.decisions(of: "b-2").contains { $0.holdReason == "device_paused" })
        #expect(policy.decisions(of: "b-2").last?.outgoing != nil)

        // Meanwhile dev-cloud kept sending.
        let cloudSends = status.statusEvents.filter { $0.deviceId == "dev-cloud" && $0.status == .sent }.map(\.at)
        #expect(cloudSends.contains { $0 > failed.at && $0 < resumed.at }, "dev-cloud sends \(cloudSends), pause \(failed.at)–\(resumed.at)")
    }

    @Test("a follower started before the opt-out topic exists keeps trying and reads it once it does")
    func missingTopic() async throws {
        let harness = try ClusterHarness(partitions: 1, compactedTopics: false)
        let store = OptOutStore()
        var client = KafkaClientOptions(bootstrapServers: harness.bootstrap)
        client.properties["topic.metadata.refresh.interval.ms"] = "1000"
        let follower = try OptOutFollower(client: client, topic: harness.topics.optOuts, store: store)
        try follower.start()
        try await Task.sleep(for: .seconds(2))

        // librdkafka's mock cluster creates topics on any metadata request; a real broker does not
        // for a consumer (allow.auto.create.topics is false), so "already exists" is fine here.
        let created = Result { () throws(KafkaError) in try harness.cluster.createTopic(harness.topics.optOuts, partitions: 1) }
        if case .failure(let error) = created, error.name != "TOPIC_ALREADY_EXISTS" { throw error }
        _ = try await harness.producer.send(OptOutRecord.record(topic: harness.topics.optOuts, phone: "+60123450021", optedOut: true))
        _ = try await harness.producer.send(OptOutRecord.record(topic: harness.topics.optOuts, phone: "+60123450022", optedOut: true))
        _ = try await harness.producer.send(OptOutRecord.record(topic: harness.topics.optOuts, phone: "+60123450021", optedOut: false))
        let deadline = ContinuousClock.now + .seconds(45)
        while !store.contains("+60123450022"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .milliseconds(500))
        #expect(store.contains("+60123450022"))
        #expect(!store.contains("+60123450021"), "the tombstone lifted the first opt-out")
        await follower.close()
        await harness.producer.close()
    }
}
