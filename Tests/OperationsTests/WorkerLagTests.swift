import BroadcastModel
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Kafka
import Operations
import Prometheus
import Senders
import Synchronization
import Testing
import WorkerRuntime

/// A sender that holds every send until it is opened.
final class GatedSender: MessageSender {
    private let open = Atomic<Bool>(false)
    func release() { open.store(true, ordering: .releasing) }

    func send(_ message: OutgoingMessage) async throws(SendFailure) -> SendReceipt {
        while !open.load(ordering: .acquiring) { try? await Task.sleep(for: .milliseconds(20)) }
        return SendReceipt(providerMessageId: "wamid.\(message.messageId)")
    }
}

@Suite("Worker metrics on the embedded cluster")
struct WorkerLagTests {
    @Test("/metrics shows consumer lag rising while the worker is held up and falling after it resumes")
    func lagFollowsTheWorker() async throws {
        let harness = try OpsHarness(partitions: 1)
        let sender = GatedSender()
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        var configuration = WorkerConfiguration(topics: harness.topics, workerName: "lag-worker")
        configuration.metricsFactory = factory
        configuration.maxHeldRecords = 4
        configuration.resumeBelowRecords = 2
        configuration.commitInterval = .milliseconds(100)
        configuration.paceFirstSendAfterTakeover = false
        var consumer = ConsumerConfiguration(client: harness.client, groupId: "lag-\(UUID())")
        consumer.assignmentStrategy = WorkerConfiguration.recommendedAssignmentStrategy
        consumer.statisticsIntervalMilliseconds = 300
        let lag = ConsumerLagTracker(factory: factory)
        let worker = try DeviceWorkerService(
            configuration: configuration, consumer: consumer, producer: harness.producer,
            senders: SingleSenderDirectory(sender), statisticsHandler: { lag.handle($0) }
        )
        let run = Task { try await worker.run() }
        let server = try await MetricsServer.start(host: "127.0.0.1", port: 0, registry: registry, ready: { worker.isReady })
        func metric(_ name: String) async throws -> Double? {
            MetricsServerTests.parse(try await MetricsServerTests.get(server.port, "/metrics").1)[name]
        }
        let lagName = #"broadcast_consumer_lag{topic="\#(harness.topics.messages)",partition="0"}"#

        #expect(await eventually { worker.isReady })
        #expect(try await MetricsServerTests.get(server.port, "/readyz").0 == 200)
        let messages = (0..<60).map { index in
            BroadcastMessage(
                id: "lag-\(index)", userId: "u", deviceId: "dev-\(index % 3)", source: .api,
                recipient: .init(phone: "+6012345\(String(format: "%04d", index))"), content: .init(type: .text, text: "hello"),
                delay: .init(minSeconds: 0, maxSeconds: 0), scheduledAt: Date(timeIntervalSinceNow: -1), createdAt: Date()
            )
        }
        _ = try await harness.producer.send(messages.map {
            ProducerRecord(topic: harness.topics.messages, key: Array($0.deviceId.utf8), value: $0.encoded())
        })
        // Held up: nothing finishes, fetching pauses, and the lag shows the whole backlog.
        let rose = try await eventually { (try await metric(lagName) ?? 0) >= 55 }
        let highLag = try await metric(lagName)
        #expect(rose, "lag did not rise: \(String(describing: highLag))")
        #expect(try await metric("broadcast_worker_fetching_paused") == 1)

        sender.release()
        let fell = try await eventually(timeout: .seconds(30)) { try await metric(lagName) == 0 }
        let lowLag = try await metric(lagName)
        #expect(fell, "lag did not fall: \(String(describing: lowLag))")
        #expect(try await metric(#"broadcast_worker_messages_total{outcome="sent"}"#) == 60)
        worker.shutdown()
        try await run.value
        await server.stop()
        await harness.close()
    }
}
