import DevicePolicies
import ContactFiles
import BroadcastModel
import Foundation
import Kafka
@testable import Operations
import Senders
import Testing
import WorkerRuntime

@Suite(.serialized) struct KafkaOpsTests {
    @Test func jsonSnapshotCatchesUpWithTheTopicAndStops() async throws {
        let harness = try OpsHarness()
        let stream = StatusStream(messages: 150)
        try await harness.publish(stream.events)
        let snapshot = try await StatusBoardLoader.snapshot(client: harness.client, topics: harness.topics, timeout: .seconds(60))
        #expect(snapshot.messages == 150)
        #expect(snapshot.total.counts == stream.expectedCounts())
        let filtered = try await StatusBoardLoader.snapshot(
            client: harness.client, topics: harness.topics, filter: .init(deviceId: "dev-1"), timeout: .seconds(60))
        #expect(filtered.total.counts == stream.expectedCounts { $0.deviceId == "dev-1" })
        await harness.close()
    }

    @Test func emptyOrMissingTopics() async throws {
        let harness = try OpsHarness()
        let empty = try await StatusBoardLoader.snapshot(client: harness.client, topics: harness.topics, timeout: .seconds(30))
        #expect(empty.messages == 0)
        await #expect(throws: OperationsError.self) {
            _ = try await StatusBoardLoader.snapshot(client: harness.client, topics: TopicNames(prefix: "missing."), timeout: .seconds(10))
        }
        await harness.close()
    }

    @Test func projectionRestartsMidStreamWithExactCounts() async throws {
        let harness = try OpsHarness()
        let stream = StatusStream(messages: 200, seed: 11)
        let half = stream.events.count / 2
        try await harness.publish(Array(stream.events[..<half]))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("projection-\(UUID()).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }

        // First run: follow in small batches and kill it part way.
        let store = try StatusProjectionStore(path: path)
        let first = StatusProjector(
            store: store, stream: try await TopicStream(client: harness.client, topic: harness.topics.status, maxBatchSize: 7))
        let running = Task { try await first.follow() }
        let progressed = try await eventually {
            let stored = try await store.storedOffsets(topic: harness.topics.status).values.reduce(0, +)
            return stored >= 40
        }
        #expect(progressed)
        running.cancel()
        _ = await running.result
        let storedAtKill = try await store.storedOffsets(topic: harness.topics.status).values.reduce(0, +)
        try store.close()
        #expect(storedAtKill < Int64(stream.events.count))

        // More events arrive while the projection is down.
        try await harness.publish(Array(stream.events[half...]))

        // Restart on the same file: resumes after the stored offsets, ends with exact counts.
        let reopened = try StatusProjectionStore(path: path)
        let second = StatusProjector(store: reopened, stream: try await TopicStream(client: harness.client, topic: harness.topics.status))
        var seen = 0
        try await second.catchUp(timeout: .seconds(60)) { seen += $0.count }
        await second.stream.close()
        #expect(seen == stream.events.count)  // read again from the start (no seek in the binding)...
        let stored = try await reopened.storedOffsets(topic: harness.topics.status)
        #expect(stored.values.reduce(0, +) == Int64(stream.events.count))
        let messages = try await reopened.messages()
        #expect(messages.count == 200)
        for message in messages { #expect(message.status == stream.expected[message.messageId], "\(message.messageId)") }
        var board = StatusBoard()
        for message in messages { board.apply(message.entry) }
        #expect(board.snapshot(now: Date()).total.counts == stream.expectedCounts())

        // ...and applying everything once more changes nothing: every record is at or below the stored offsets.
        let again = StatusProjector(store: reopened, stream: try await TopicStream(client: harness.client, topic: harness.topics.status))
        var replayed: [StatusRecord] = []
        try await again.stream.readToEnd(timeout: .seconds(60)) { batch in replayed += StatusRecord.decode(batch, logger: again.logger) }
        await again.stream.close()
        let result = try await reopened.apply(replayed, topic: harness.topics.status)
        #expect(result.skipped == stream.events.count && result.applied == 0)

        // The report over the projection: one row per recipient of the campaign.
        let campaign = try await reopened.messages(campaignId: "cmp-1")
        let report = RecipientReport(kind: .campaign, id: "cmp-1", messages: campaign)
        let rows = report.csv(section: .recipients).split(separator: "\n").dropFirst().map { csvRow(String($0)) }
        let expectedIds = stream.expectedMessages.values.filter { $0.campaignId == "cmp-1" }.map(\.messageId).sorted()
        #expect(rows.map { $0[0] } == expectedIds)
        for row in rows {
            #expect(row[4] == stream.expected[row[0]]?.rawValue)
            #expect(row[1].contains("•"))
            if row[4] == "sent" { #expect(row[10].hasPrefix("wamid.") && !row[9].isEmpty) }
        }
        #expect(report.totals == stream.expectedCounts { $0.campaignId == "cmp-1" })
        try reopened.close()
        await harness.close()
    }

    @Test func controlFollowerDrivesThePolicyWithinSeconds() async throws {
        let harness = try OpsHarness()
        let follower = try await CampaignControlFollower(client: harness.client, topics: harness.topics)
        try await follower.start(timeout: .seconds(30))
        let policy = CampaignControlPolicy(wrapping: PassThroughPolicy(), control: follower)
        let message = CampaignControlPolicyTests.message(campaign: "cmp-7")
        let now = Date()
        guard case .send = policy.decide(message, attempt: 1, now: now) else { Issue.record("must send before any control"); return }

        func publish(_ action: CampaignAction) async throws {
            try await CampaignControlPublisher.publish(
                CampaignControlRecord(campaignId: "cmp-7", action: action, at: Date(), by: "test"),
                producer: harness.producer, topics: harness.topics)
        }
        let clock = ContinuousClock()
        let started = clock.now
        try await publish(.pause)
        #expect(await eventually(timeout: .seconds(5)) { follower.latestAction(for: "cmp-7") == .pause })
        #expect(clock.now - started < .seconds(5))
        #expect(policy.decide(message, attempt: 1, now: now) == .hold(until: now.addingTimeInterval(2), reason: "campaign_paused"))

        try await publish(.resume)
        #expect(await eventually(timeout: .seconds(5)) { follower.latestAction(for: "cmp-7") == .resume })
        guard case .send = policy.decide(message, attempt: 1, now: now) else { Issue.record("resume must send"); return }

        try await publish(.cancel)
        #expect(await eventually(timeout: .seconds(5)) { follower.latestAction(for: "cmp-7") == .cancel })
        #expect(policy.decide(message, attempt: 1, now: now) == .skip(reason: "cancelled"))
        await follower.stop()

        // A worker starting later learns the latest state while catching up.
        let late = try await CampaignControlFollower(client: harness.client, topics: harness.topics)
        try await late.start(timeout: .seconds(30))
        #expect(late.latestAction(for: "cmp-7") == .cancel)
        #expect(late.latestRecord(for: "cmp-7")?.by == "test")
        await late.stop()
        await harness.close()
    }

    @Test func deadLettersListAndReplayOnce() async throws {
        let harness = try OpsHarness()
        func deadLetter(key: String, value: String, reason: DeadLetterReason?, offset: Int64) -> ProducerRecord {
            var headers = [KafkaHeader(name: "schema", string: RecordSchema.message)]
            if let reason {
                let letter = DeadLetter(
                    reason: reason, error: "\(reason.rawValue) at \(offset)", sourceTopic: harness.topics.messages,
                    sourcePartition: 0, sourceOffset: offset, worker: "w1", at: Date())
                headers += letter.headers().map { KafkaHeader(name: $0.0, value: $0.1) }
            }
            return ProducerRecord(topic: harness.topics.deadLetters, key: Array(key.utf8), value: Array(value.utf8), headers: headers)
        }
        let records = [
            deadLetter(key: "dev-1", value: "{\"a\":1}", reason: .invalid, offset: 10),
            deadLetter(key: "dev-2", value: "not json", reason: .undecodable, offset: 11),
            deadLetter(key: "dev-1", value: "{\"a\":2}", reason: .invalid, offset: 12),
            deadLetter(key: "dev-3", value: "???", reason: nil, offset: 13),
        ]
        for result in try await harness.producer.send(records) { _ = try result.get() }

        let all = try await DeadLetterTools.list(client: harness.client, topics: harness.topics)
        #expect(all.count == 4)
        #expect(all.map(\.reason).sorted() == ["invalid", "invalid", "undecodable", "unreadable"])
        let invalid = try await DeadLetterTools.list(client: harness.client, topics: harness.topics, reason: "invalid")
        #expect(invalid.count == 2)
        #expect(invalid.allSatisfy { $0.key == "dev-1" && $0.sourceTopic == harness.topics.messages && $0.error?.hasPrefix("invalid") == true })

        let group = "replay-\(UUID())"
        let first = try await DeadLetterTools.replay(
            client: harness.client, topics: harness.topics, producer: harness.producer, reason: "invalid", groupId: group)
        #expect(first.replayed == 2 && first.leftByFilter == 1)
        let second = try await DeadLetterTools.replay(
            client: harness.client, topics: harness.topics, producer: harness.producer, reason: "invalid", groupId: group)
        #expect(second.replayed == 0)
        let rest = try await DeadLetterTools.replay(client: harness.client, topics: harness.topics, producer: harness.producer, groupId: group)
        #expect(rest.replayed == 1 && rest.replayedByReason == ["undecodable": 1])
        let none = try await DeadLetterTools.replay(client: harness.client, topics: harness.topics, producer: harness.producer, groupId: group)
        #expect(none.replayed == 0)
        await #expect(throws: OperationsError.self) {
            _ = try await DeadLetterTools.replay(client: harness.client, topics: harness.topics, producer: harness.producer, reason: "nope")
        }

        // Exactly three records reached the messages topic, with their original keys, values and schema header.
        let messages = try await TopicStream(client: harness.client, topic: harness.topics.messages)
        var replayed: [(key: String?, value: String, headers: [KafkaHeader])] = []
        try await messages.readToEnd(timeout: .seconds(30)) { batch in
            replayed += batch.map { ($0.keyString, String(decoding: $0.valueBytes ?? [], as: UTF8.self), $0.headers) }
        }
        await messages.close()
        #expect(replayed.count == 3)
        #expect(Set(replayed.map { "\($0.key ?? "")=\($0.value)" }) == ["dev-1={\"a\":1}", "dev-1={\"a\":2}", "dev-2=not json"])
        for record in replayed {
            #expect(!record.headers.contains { $0.name.hasPrefix("dlq.") })
            #expect(record.headers.contains { $0.name == "schema" })
            #expect(record.headers.contains { $0.name == DeadLetterTools.replayedFromHeader })
        }
        await harness.close()
    }
}
