import Foundation
import Kafka
import Testing

@Suite("Producer batches on the embedded cluster")
struct ProducerBatchTests {
    @Test("a batch lands every record with its own key, value and headers, even through a full queue")
    func batchRoundTrip() async throws {
        let kafka = try TestCluster()
        let first = try kafka.topic(partitions: 4)
        let second = try kafka.topic(partitions: 2)
        // A queue far smaller than the batch: enqueue must wait for room, not drop or fail records.
        let producer = try kafka.producer { $0.client.properties["queue.buffering.max.messages"] = "50" }
        var batch = ProducerBatch(reservingRecords: 10, bytes: 64)  // grows past its reservation
        let firstTopic = batch.addTopic(first)
        let secondTopic = batch.addTopic(second)
        #expect(batch.addTopic(first) == firstTopic, "a topic is registered once")
        let tagged = batch.addHeaders([KafkaHeader(name: "schema", string: "s1"), KafkaHeader(name: "empty", value: nil)])
        let count = 1_200
        for index in 0..<count {
            switch index % 3 {
            case 0: batch.append(topic: firstTopic, key: "k\(index % 7)", headers: tagged) { $0.append(contentsOf: "v\(index)".utf8) }
            case 1: batch.append(topic: secondTopic, key: Array("b\(index % 5)".utf8), value: Array("v\(index) ✓".utf8))
            default: batch.append(topic: firstTopic, key: nil as String?) { $0.append(contentsOf: "v\(index)".utf8) }
            }
        }
        #expect(batch.count == count)
        #expect(batch.topic(of: 1) == second)
        #expect(batch.key(of: 2) == nil)
        #expect(batch.value(of: 1) == Array("v1 ✓".utf8))

        let pending = try await producer.enqueue(batch)
        #expect(pending.count == count)
        let results = await pending.wait()
        #expect(results.allSatisfy { (try? $0.get()) != nil })
        #expect(results.enumerated().allSatisfy { (try? $0.element.get().topic) == ($0.offset % 3 == 1 ? second : first) })
        #expect(await pending.failures().isEmpty)

        let consumer = try kafka.consumer(group: "g-\(UUID())")
        try consumer.subscribe(topics: [first, second])
        let got = try await collect(consumer) { $0.count >= count }
        #expect(got.count == count)
        var seen = Set<Int>()
        for record in got {
            let text = record.value.dropFirst().split(separator: " ").first.map(String.init) ?? ""
            let index = try #require(Int(text))
            seen.insert(index)
            switch index % 3 {
            case 0:
                #expect(record.key == "k\(index % 7)")
                #expect(record.headers == [KafkaHeader(name: "schema", string: "s1"), KafkaHeader(name: "empty", value: nil)])
            case 1:
                #expect(record.key == "b\(index % 5)")
                #expect(record.value == "v\(index) ✓")
                #expect(record.headers.isEmpty)
            default:
                #expect(record.key == nil)
            }
        }
        #expect(seen.count == count, "every record once")
        await consumer.close()
        await producer.close()
    }

    @Test("a record librdkafka refuses is reported by index; the rest of the batch still lands")
    func refusedRecordIsReported() async throws {
        let kafka = try TestCluster()
        let topic = try kafka.topic(partitions: 1)
        let producer = try kafka.producer { $0.client.properties["message.max.bytes"] = "2000" }
        var batch = ProducerBatch()
        let handle = batch.addTopic(topic)
        batch.append(topic: handle, key: "a") { $0.append(contentsOf: "small".utf8) }
        batch.append(topic: handle, key: "b") { $0.append(contentsOf: [UInt8](repeating: 0x41, count: 5_000)) }
        batch.append(topic: handle, key: "c") { $0.append(contentsOf: "small too".utf8) }
        let failures = try await producer.enqueue(batch).failures()
        #expect(failures.map(\.index) == [1])
        #expect(failures.first?.error.name == "MSG_SIZE_TOO_LARGE")
        await producer.close()
    }
}
