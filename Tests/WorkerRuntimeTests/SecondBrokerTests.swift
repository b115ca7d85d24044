import BroadcastModel
import BroadcastTesting
import Foundation
import Kafka
import Testing

extension HandOverTests {
/// The mock cluster refuses commits while a group rebalances, so on it a hand-over may repeat a
/// send and the tests allow one per device. On a broker that accepts the revocation's commit a clean
/// hand-over must repeat nothing at all. noida-db also bumps the generation as soon as a member
/// leaves, so the survivor's next periodic commit is refused with ILLEGAL_GENERATION and librdkafka
/// drops its assignment as lost: that path must repeat nothing either (it repeated 2-5 sends before).
@Suite("Worker processes on a second broker implementation (noida-db)")
struct SecondBrokerTests {
    @Test(
        "SIGTERM hand-over between two worker processes on noida-db: nothing lost, nothing repeated",
        .enabled(if: NoidaBroker.executable != nil, Comment(rawValue: NoidaBroker.notInstalled)),
        .timeLimit(.minutes(3))
    )
    func cleanHandOver() async throws {
        let broker = try NoidaBroker()
        defer { broker.stop() }
        let topics = TopicNames(prefix: "t\(UUID().uuidString.prefix(6)).")
        try await broker.createTopics(topics.all, partitions: 4)
        let devices = (0..<20).map { "dev-\($0)" }
        let messages = (0..<10).flatMap { round in
            devices.map { testMessage(id: "m-\($0)-\(round)", device: $0, minDelay: 0.4, maxDelay: 0.6) }
        }
        let producer = try KafkaProducer(configuration: ProducerConfiguration(bootstrapServers: broker.bootstrap))
        let results = try await producer.send(messages.map {
            ProducerRecord(topic: topics.messages, key: Array($0.deviceId.utf8), value: $0.encoded(), headers: [KafkaHeader(RecordSchema.messageHeader)])
        })
        for result in results { _ = try result.get() }
        await producer.close()

        var following = ConsumerConfiguration(bootstrapServers: broker.bootstrap, groupId: "follower-\(UUID())")
        following.sessionTimeoutMilliseconds = 6_000
        let status = try TopicFollower(configuration: following, topic: topics.status)
        let logs = ["stays", "stopped"].map { broker.directory.appendingPathComponent("\($0).log") }
        let stays = try WorkerProcess(name: "stays", bootstrap: broker.bootstrap, topicPrefix: topics.prefix, log: logs[0])
        let stopped = try WorkerProcess(name: "stopped", bootstrap: broker.bootstrap, topicPrefix: topics.prefix, log: logs[1])
        let logsAt = "worker and broker logs in \(broker.directory.path)"

        // Stop one worker once both share the work and it is well under way.
        try await status.wait(timeout: .seconds(40)) { _ in
            let sent = status.statusEvents.sends()
            return sent.count >= 60 && Set(["stays", "stopped"]).isSubset(of: Set(sent.compactMap(\.worker)))
        }
        let sentBeforeStop = status.statusEvents.sends()
        try #require(Set(sentBeforeStop.compactMap(\.worker)).contains("stopped"), "the work was not shared before the stop: \(logsAt)")
        #expect(stopped.terminate() == 0, "SIGTERM must end the worker cleanly: \(logsAt)")
        try await status.wait(timeout: .seconds(40)) { _ in status.statusEvents.finals.count >= messages.count }
        #expect(stays.terminate() == 0)
        await status.close()

        let events = status.statusEvents
        let sent = events.sends()
        let ids = Set(sent.map(\.messageId))
        #expect(ids.count == messages.count, "lost: \(messages.count - ids.count); \(logsAt)")
        let stoppedDevices = Set(sent.filter { $0.worker == "stopped" }.map(\.deviceId))
        let takenOver = Set(sent.filter { $0.worker == "stays" && stoppedDevices.contains($0.deviceId) }.map(\.deviceId))
        #expect(!takenOver.isEmpty, "no device of the stopped worker was taken over: nothing was handed over")
        let duplicates = duplicatesPerDevice(events)
        let repeated = Dictionary(grouping: events.sentByDevice.values.flatMap { $0 }, by: \.messageId)
            .filter { $0.value.count > 1 }
            .map { "\($0.key) by \($0.value.compactMap(\.worker))" }
        print("noida-db SIGTERM hand-over: \(duplicates.values.reduce(0, +)) repeated sends \(duplicates.sorted { $0.key < $1.key }), \(takenOver.count) devices taken over")
        #expect(duplicates.isEmpty, "a clean hand-over repeated sends: \(repeated.sorted()); \(logsAt)")
        expectOrderAndPacing(events, minGap: 0.4)
    }
}
}
