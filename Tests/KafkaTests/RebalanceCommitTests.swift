import Foundation
import Kafka
import Testing
import BroadcastTesting

@Suite("Commits inside the rebalance callback")
struct RebalanceCommitTests {
    /// A member whose handler commits its progress for revoked partitions before they are given up,
    /// and reads the committed offsets of partitions it is given.
    final class Member: Sendable {
        let name: String
        let consumer: KafkaConsumer
        let progress = Progress()
        let received = Locked<[Received]>([])
        let owned = Locked<Set<TopicPartition>>([])

        init(_ name: String, kafka: TestCluster, group: String, strategy: PartitionAssignmentStrategy, log: RebalanceLog) throws {
            self.name = name
            let progress = progress
            consumer = try kafka.consumer(group: group, strategy: strategy) { event, control in
                var entry = RebalanceLog.Entry(member: name, event: event, stillAssigned: false, commitError: nil, committed: [])
                switch event.kind {
                case .revoked:
                    let assigned = Set((try? control.assignment()) ?? [])
                    entry.stillAssigned = event.partitions.allSatisfy { assigned.contains($0) }
                    do throws(KafkaError) {
                        try control.commit(progress.offsets(for: event.partitions, metadata: "by \(name)"))
                    } catch {
                        entry.commitError = error
                    }
                case .assigned:
                    entry.committed = (try? control.committed(event.partitions)) ?? []
                }
                log.append(entry)
            }
        }

        func start(topic: String) throws -> Task<Void, Never> {
            try consumer.subscribe(topics: [topic])
            return Task { [self] in
                for await event in consumer.events {
                    switch event {
                    case .messages(let batch):
                        progress.processed(batch)
                        received.withLock { $0 += batch.received }
                    case .assigned(let partitions, _): owned.withLock { $0.formUnion(partitions) }
                    case .revoked(let partitions, _, _): owned.withLock { $0.subtract(partitions) }
                    case .error: break
                    }
                }
            }
        }
    }

    @Test("a member joining and one leaving: progress is committed before partitions move", arguments: [
        PartitionAssignmentStrategy.range, .cooperativeSticky,
    ])
    func joinAndLeave(strategy: PartitionAssignmentStrategy) async throws {
        let kafka = try TestCluster()
        let topic = try kafka.topic(partitions: 4)
        let producer = try kafka.producer()
        _ = try await producer.send(records(topic: topic, count: 400, keys: 40, prefix: "a"))
        let group = "g-\(UUID())"
        let log = RebalanceLog()

        let first = try Member("first", kafka: kafka, group: group, strategy: strategy, log: log)
        let firstTask = try first.start(topic: topic)
        try await waitUntil { first.received.value.count >= 400 }
        #expect(first.received.value.count == 400)

        // A second member joins: the first gives up partitions and commits them inside the callback.
        let second = try Member("second", kafka: kafka, group: group, strategy: strategy, log: log)
        let secondTask = try second.start(topic: topic)
        try await waitUntil { second.owned.value.count == 2 && first.owned.value.count == 2 }
        #expect(second.owned.value.count == 2)
        let firstRevokes = log.all.filter { $0.member == "first" && $0.event.kind == .revoked }
        #expect(!firstRevokes.isEmpty)
        #expect(firstRevokes.allSatisfy { $0.stillAssigned }, "the handler must run before partitions are given up")
        // A real broker accepts a current-generation commit while it prepares a rebalance; the mock
        // refuses it with REBALANCE_IN_PROGRESS when the eager protocol revokes, and now and then
        // (under a loaded machine) when the cooperative one does.
        let refusedByMock = firstRevokes.contains { $0.commitError?.name == "REBALANCE_IN_PROGRESS" }
        for revoke in firstRevokes {
            let mockRefusal = revoke.commitError?.name == "REBALANCE_IN_PROGRESS"
            #expect(revoke.commitError == nil || mockRefusal, "commit on join failed: \(String(describing: revoke.commitError))")
        }
        if strategy == .cooperativeSticky, !refusedByMock {
            // The committed progress was honoured: the newcomer re-read nothing the first member had read.
            try await Task.sleep(for: .seconds(1))
            #expect(second.received.value.isEmpty, "second re-read \(second.received.value.count) records")
        }

        // New records: each member reads its own share.
        _ = try await producer.send(records(topic: topic, count: 200, keys: 40, prefix: "b"))
        try await waitUntil { Set((first.received.value + second.received.value).map(\.value)).count >= 600 }
        let readBySecond = Set(second.received.value.map(\.value))
        #expect(!readBySecond.isEmpty)
        let firstCountBeforeLeave = first.received.value.count

        // The second leaves: it commits inside the callback and the first resumes exactly after.
        await second.consumer.close()
        _ = await secondTask.value
        let leaveRevoke = log.all.first { $0.member == "second" && $0.event.kind == .revoked }
        #expect(leaveRevoke?.stillAssigned == true)
        #expect(leaveRevoke?.commitError == nil, "commit on leave failed: \(String(describing: leaveRevoke?.commitError))")
        try await waitUntil { first.owned.value.count == 4 }
        let reassigned = try #require(log.all.last { $0.member == "first" && $0.event.kind == .assigned })
        let committed = Dictionary(uniqueKeysWithValues: reassigned.committed.map { ($0.partition, $0) })
        let handedOver = second.progress.offsets(for: reassigned.event.partitions)
        #expect(!handedOver.isEmpty)
        for offset in handedOver {
            #expect(committed[offset.partition]?.offset == offset.offset)
            #expect(committed[offset.partition]?.metadata == "by second")
        }
        try await Task.sleep(for: .seconds(1))
        let rereadAfterLeave = first.received.value.dropFirst(firstCountBeforeLeave).filter { readBySecond.contains($0.value) }
        #expect(rereadAfterLeave.isEmpty, "first re-read \(rereadAfterLeave.count) records the second had finished")
        await first.consumer.close()
        _ = await firstTask.value
        await producer.close()
    }
}
