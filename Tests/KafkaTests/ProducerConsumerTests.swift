import Foundation
import Kafka
import Testing

@Suite("Producer and consumer on the embedded cluster")
struct ProducerConsumerTests {
    @Test("round trip keeps keys, values and headers")
    func roundTrip() async throws {
        let kafka = try TestCluster()
        let topic = try kafka.topic(partitions: 3)
        let producer = try kafka.producer()
        let sent = ProducerRecord(
            topic: topic, key: Array("device-1".utf8), value: Array("héllo ✓".utf8),
            headers: [KafkaHeader(name: "schema", string: "broadcast.message.v1"), KafkaHeader(name: "empty", value: nil)]
        )
        let report = try await producer.send(sent)
        #expect(report.topic == topic)
        #expect(report.offset == 0)

        let consumer = try kafka.consumer(group: "g-\(UUID())")
        try consumer.subscribe(topics: [topic])
        let got = try await collect(consumer) { !$0.isEmpty }
        #expect(got.count == 1)
        #expect(got.first?.key == "device-1")
        #expect(got.first?.value == "héllo ✓")
        #expect(got.first?.partition == report.partition)
        #expect(got.first?.headers == sent.headers)
        await consumer.close()
        await producer.close()
    }

    @Test("records with the same key stay in order on one partition")
    func orderPerKey() async throws {
        let kafka = try TestCluster()
        let topic = try kafka.topic(partitions: 4)
        let producer = try kafka.producer()
        let results = try await producer.send(records(topic: topic, count: 2_000, keys: 10))
        #expect(results.allSatisfy { (try? $0.get()) != nil })

        let consumer = try kafka.consumer(group: "g-\(UUID())")
        try consumer.subscribe(topics: [topic])
        let got = try await collect(consumer) { $0.count >= 2_000 }
        #expect(got.count == 2_000)
        var partitionOfKey: [String: Int32] = [:]
        var lastIndexOfKey: [String: Int] = [:]
        for record in got {
            let key = try #require(record.key)
            let index = try #require(Int(record.value.dropFirst()))
            #expect(partitionOfKey[key, default: record.partition] == record.partition, "key \(key) on two partitions")
            partitionOfKey[key] = record.partition
            #expect(index > lastIndexOfKey[key, default: -1], "key \(key) out of order")
            lastIndexOfKey[key] = index
        }
        await consumer.close()
        await producer.close()
    }

    @Test("a bad property is refused with librdkafka's message and the property name")
    func badProperty() throws {
        var unknown = ProducerConfiguration(bootstrapServers: "127.0.0.1:1")
        unknown.client.properties["no.such.property"] = "1"
        let error = #expect(throws: KafkaError.self) { try KafkaProducer(configuration: unknown) }
        #expect(error?.message.contains("no.such.property") == true)
        #expect(error?.message.contains("unknown property") == true)

        var badValue = ConsumerConfiguration(bootstrapServers: "127.0.0.1:1", groupId: "g")
        badValue.client.properties["session.timeout.ms"] = "soon"
        let valueError = #expect(throws: KafkaError.self) { try KafkaConsumer(configuration: badValue) }
        #expect(valueError?.message.contains("session.timeout.ms") == true)
        #expect(valueError?.message.contains("invalid value") == true)
    }

    @Test("a closed consumer refuses watermark and offset calls at once instead of using its destroyed handle")
    func callsAfterCloseAreRefused() async throws {
        let test = try TestCluster()
        let topic = try test.topic(partitions: 2)
        let consumer = try test.consumer(group: "closed-\(UUID().uuidString.prefix(6))", strategy: .range)
        try consumer.subscribe(topics: [topic])
        let partition = TopicPartition(topic: topic, partition: 0)
        #expect(try await consumer.queryWatermarks(partition).high == 0)
        await consumer.close()
        // Refused as closed (not a timeout of a call that went through to librdkafka).
        let watermarks = await #expect(throws: KafkaError.self) { try await consumer.queryWatermarks(partition, timeout: .seconds(5)) }
        #expect(watermarks?.message.contains("closed") == true, "\(String(describing: watermarks))")
        let committed = await #expect(throws: KafkaError.self) { try await consumer.committed([partition], timeout: .seconds(5)) }
        #expect(committed?.message.contains("closed") == true, "\(String(describing: committed))")
    }

    @Test("a reader that stops early leaves batches it never took: close still returns, and frees them")
    func closeAfterReaderStopsEarly() async throws {
        let test = try TestCluster(brokers: 1)
        let topic = try test.topic(partitions: 1)
        let producer = try test.producer()
        let records = (0..<3_000).map { ProducerRecord(topic: topic, key: nil, value: Array("record \($0)".utf8)) }
        for result in try await producer.send(records) { _ = try result.get() }
        await producer.close()

        // Small batches, so that plenty wait in the buffer when the reader stops after the first.
        var configuration = ConsumerConfiguration(bootstrapServers: test.bootstrap, groupId: "unused")
        configuration.assignmentStrategy = .range
        configuration.maxBatchSize = 100
        configuration.closeTimeout = .seconds(20)
        let consumer = try KafkaConsumer(configuration: configuration)
        try consumer.assign([TopicPartitionOffset(topic: topic, partition: 0, offset: 0)])
        for await event in consumer.events {
            if case .messages = event { break }
        }
        // Let the poll thread fill the buffer behind the reader.
        try await Task.sleep(for: .milliseconds(500))
        let started = ContinuousClock.now
        // Before the buffer was emptied first, rd_kafka_destroy waited forever on the waiting messages.
        #expect(await consumer.close(), "close gave up after \(ContinuousClock.now - started)")
    }

    @Test("a batch the application still holds cannot make close wait past its timeout")
    func closeIsBoundedWhileABatchIsHeld() async throws {
        let test = try TestCluster(brokers: 1)
        let topic = try test.topic(partitions: 1)
        let producer = try test.producer()
        for result in try await producer.send([ProducerRecord(topic: topic, key: nil, value: Array("held".utf8))]) { _ = try result.get() }
        await producer.close()

        var configuration = ConsumerConfiguration(bootstrapServers: test.bootstrap, groupId: "unused")
        configuration.assignmentStrategy = .range
        configuration.closeTimeout = .seconds(2)
        let consumer = try KafkaConsumer(configuration: configuration)
        try consumer.assign([TopicPartitionOffset(topic: topic, partition: 0, offset: 0)])
        var held: ConsumerBatch?
        for await event in consumer.events {
            if case .messages(let batch) = event {
                held = batch
                break
            }
        }
        #expect(held?.received.map(\.value) == ["held"])
        // librdkafka's destroy waits for the held message; close gives up at its timeout instead.
        let started = ContinuousClock.now
        #expect(await consumer.close() == false)
        let waited = ContinuousClock.now - started
        #expect(waited >= .seconds(2) && waited < .seconds(15), "close took \(waited)")
        #expect(await consumer.close() == false, "a second close still reports the abandoned client")
        // Released: the abandoned poll thread's destroy can now finish (before the cluster goes).
        held = nil
        try await Task.sleep(for: .milliseconds(500))
    }
}
