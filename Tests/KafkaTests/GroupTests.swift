import Foundation
import Kafka
import Synchronization
import Testing
import BroadcastTesting

/// Collects what rebalance handlers saw, across threads.
final class RebalanceLog: Sendable {
    struct Entry: Sendable {
        var member: String
        var event: RebalanceEvent
        var stillAssigned: Bool
        var commitError: KafkaError?
        var committed: [TopicPartitionOffset]
    }

    private let entries = Mutex<[Entry]>([])
    func append(_ entry: Entry) { entries.withLock { $0.append(entry) } }
    var all: [Entry] { entries.withLock { $0 } }
}

/// Next offset to read per partition, as an application tracks what it processed.
final class Progress: Sendable {
    private let next = Mutex<[TopicPartition: Int64]>([:])
    func processed(_ batch: ConsumerBatch) {
        next.withLock { next in
            for message in batch { next[message.topicPartition] = message.offset + 1 }
        }
    }
    func offsets(for partitions: [TopicPartition], metadata: String? = nil) -> [TopicPartitionOffset] {
        next.withLock { next in
            partitions.compactMap { partition in
                next[partition].map { TopicPartitionOffset(topic: partition.topic, partition: partition.partition, offset: $0, metadata: metadata) }
            }
        }
    }
}

@Suite("Consumer groups on the embedded cluster")
struct GroupTests {
    @Test("three members share twelve partitions and read every record once")
    func threeMembers() async throws {
        let kafka = try TestCluster()
        let topic = try kafka.topic(partitions: 12)
        let producer = try kafka.producer()
        let group = "g-\(UUID())"
        let members = try (0..<3).map { _ in try kafka.consumer(group: group, strategy: .roundRobin) }
        for member in members { try member.subscribe(topics: [topic]) }

        let seen = Locked<[Int: [Received]]>([:])
        let owners = Locked<[Int: Set<TopicPartition>]>([:])
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for (index, member) in members.enumerated() {
                tasks.addTask {
                    for await event in member.events {
                        switch event {
                        case .messages(let batch): seen.withLock { $0[index, default: []] += batch.received }
                        case .assigned(let partitions, _): owners.withLock { $0[index, default: []].formUnion(partitions) }
                        case .revoked(let partitions, _, _): owners.withLock { $0[index, default: []].subtract(partitions) }
                        case .error: break
                        }
                    }
                }
            }
            try await waitUntil { owners.value.values.map(\.count) == [4, 4, 4] }
            _ = try await producer.send(records(topic: topic, count: 1_200, keys: 120))
            try await waitUntil { seen.withLock { $0.values.map(\.count).reduce(0, +) } >= 1_200 }
            let split = owners.value
            #expect(split.values.map(\.count) == [4, 4, 4], "assignment: \(split)")
            #expect(split.values.reduce(into: Set<TopicPartition>()) { $0.formUnion($1) }.count == 12)
            let byMember = seen.value
            for (index, received) in byMember {
                let owned = Set(split[index, default: []].map(\.partition))
                #expect(received.allSatisfy { owned.contains($0.partition) }, "member \(index) read a partition it does not own")
            }
            let all = byMember.values.flatMap { $0 }
            #expect(all.count == 1_200, "read \(all.count) records for 1,200 produced")
            #expect(Set(all.map(\.value)).count == 1_200)
            for member in members { await member.close() }
            try await tasks.waitForAll()
        }
        await producer.close()
    }
}
