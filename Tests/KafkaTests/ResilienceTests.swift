import Foundation
import Kafka
import Testing
import BroadcastTesting

@Suite("Commits, pause/resume, outages and admin on the embedded cluster")
struct ResilienceTests {
    @Test("commit, close, and a new member resumes exactly after the committed offset, metadata read back")
    func resumeAfterCommit() async throws {
        let kafka = try TestCluster()
        let topic = try kafka.topic(partitions: 1)
        let producer = try kafka.producer()
        _ = try await producer.send(records(topic: topic, count: 100, keys: 5))
        let group = "g-\(UUID())"

        let first = try kafka.consumer(group: group, strategy: .roundRobin)
        try first.subscribe(topics: [topic])
        let read = try await collect(first) { $0.count >= 40 }
        let cut = try #require(read.dropFirst(39).first?.offset)
        // A commit made while the consumer is still finding its coordinator is refused with
        // _WAIT_COORD (seen on a loaded machine): asked again, as the worker's next tick would.
        let offsets = [TopicPartitionOffset(topic: topic, partition: 0, offset: cut + 1, metadata: "done:42,44")]
        var attempts = 0
        while true {
            do {
                try await first.commit(offsets)
                break
            } catch {
                attempts += 1
                let waitingForCoordinator = error.name == "_WAIT_COORD"
                guard waitingForCoordinator, attempts < 20 else { throw error }
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        await first.close()

        let second = try kafka.consumer(group: group, strategy: .roundRobin)
        let committed = try await second.committed([TopicPartition(topic: topic, partition: 0)])
        #expect(committed.first?.offset == cut + 1)
        #expect(committed.first?.metadata == "done:42,44")
        try second.subscribe(topics: [topic])
        let rest = try await collect(second) { $0.count >= 100 - Int(cut + 1) }
        #expect(rest.first?.offset == cut + 1, "resumed at \(String(describing: rest.first?.offset)), committed \(cut + 1)")
        #expect(rest.count == 100 - Int(cut + 1))
        #expect(Set(rest.map(\.offset)).count == rest.count)
        await second.close()
        await producer.close()
    }

    @Test("a paused partition delivers nothing until it is resumed; the others go on")
    func pauseAndResume() async throws {
        let kafka = try TestCluster()
        let topic = try kafka.topic(partitions: 2)
        let producer = try kafka.producer()
        let consumer = try kafka.consumer(group: "g-\(UUID())", strategy: .roundRobin)
        try consumer.subscribe(topics: [topic])
        let seen = Locked<[Received]>([])
        let reader = Task {
            for await event in consumer.events {
                if case .messages(let batch) = event { seen.withLock { $0 += batch.received } }
            }
        }
        _ = try await producer.send((0..<10).map { ProducerRecord(topic: topic, value: Array("warm-\($0)".utf8), partition: Int32($0 % 2)) })
        try await waitUntil { seen.value.count >= 10 }
        consumer.pause([TopicPartition(topic: topic, partition: 0)])
        try await Task.sleep(for: .milliseconds(300))
        _ = try await producer.send((0..<20).map { ProducerRecord(topic: topic, value: Array("late-\($0)".utf8), partition: Int32($0 % 2)) })
        try await waitUntil(timeout: .seconds(10)) { seen.value.filter { $0.value.hasPrefix("late") }.count >= 10 }
        try await Task.sleep(for: .seconds(1))
        let whilePaused = seen.value.filter { $0.value.hasPrefix("late") }
        #expect(whilePaused.count == 10)
        #expect(whilePaused.allSatisfy { $0.partition == 1 })
        #expect(consumer.pausedPartitions == [TopicPartition(topic: topic, partition: 0)])

        consumer.resume([TopicPartition(topic: topic, partition: 0)])
        try await waitUntil(timeout: .seconds(10)) { seen.value.filter { $0.value.hasPrefix("late") }.count >= 20 }
        let late = seen.value.filter { $0.value.hasPrefix("late") }
        #expect(late.count == 20, "nothing lost or repeated across pause/resume")
        #expect(Set(late.map(\.value)).count == 20)
        await consumer.close()
        _ = await reader.value
        await producer.close()
    }

    @Test("a broker down for a few seconds while producing: every acknowledged record is consumed once")
    func brokerOutage() async throws {
        let kafka = try TestCluster()
        let topic = try kafka.topic(partitions: 6)
        let producer = try kafka.producer { $0.deliveryTimeoutMilliseconds = 60_000 }
        var pending: [PendingDeliveries] = []
        for round in 0..<20 {
            // librdkafka 2.0.2's mock re-creates a downed broker's listener on the same port, and
            // under the parallel suite it sometimes answers _DESTROY instead (two clean-clone runs of
            // four): recorded as a known issue, and the run goes on with every broker up.
            if round == 5 { withKnownIssue("mock broker not taken down", isIntermittent: true) { try kafka.cluster.setBrokerDown(1) } }
            if round == 15 { withKnownIssue("mock broker not brought up", isIntermittent: true) { try kafka.cluster.setBrokerUp(1) } }
            pending.append(try await producer.enqueue(records(topic: topic, count: 250, keys: 50, prefix: "r\(round)-")))
            try await Task.sleep(for: .milliseconds(250))
        }
        var acknowledged: [String] = []
        for batch in pending {
            for (index, result) in await batch.wait().enumerated() {
                if case .success = result { acknowledged.append("\(index)") }
            }
        }
        #expect(acknowledged.count == 5_000, "the producer retried through the outage")
        let consumer = try kafka.consumer(group: "g-\(UUID())", strategy: .roundRobin)
        try consumer.subscribe(topics: [topic])
        let got = try await collect(consumer, timeout: .seconds(40)) { $0.count >= 5_000 }
        try await Task.sleep(for: .milliseconds(500))
        #expect(got.count == 5_000)
        #expect(Set(got.map(\.value)).count == 5_000, "each acknowledged record exactly once")
        await consumer.close()
        await producer.close()
    }

    @Test("admin: topics listed and described with partitions and replicas")
    func admin() async throws {
        let kafka = try TestCluster()
        let topic = try kafka.topic(partitions: 5)
        let admin = try KafkaAdmin(bootstrapServers: kafka.bootstrap)
        let names = try await admin.listTopics()
        #expect(names.contains(topic))
        let description = try #require(try await admin.describeTopic(topic))
        #expect(description.partitions.map(\.id) == [0, 1, 2, 3, 4])
        #expect(description.partitions.allSatisfy { $0.leader >= 1 && !$0.replicas.isEmpty })
        // librdkafka 2.0.2's mock brokers name no controller, so CreateTopics cannot reach one: the
        // call must fail with a clear timeout rather than hang (a real cluster creates, and treats
        // "already exists" as success). Topics on the embedded cluster come from createTopic.
        let error = await #expect(throws: KafkaError.self) {
            try await admin.createTopics([NewTopic(name: "new-\(UUID())", partitions: 3)], timeout: .seconds(3))
        }
        #expect(error?.name == "_TIMED_OUT")
        #expect(error?.message.contains("controller") == true)
        await admin.close()
    }
}
