import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import Operations
import Prometheus
import Synchronization
import Testing
@testable import WorkerRuntime

@Suite struct MetricsServerTests {
    /// Parses the Prometheus text format into `name{labels}` → value.
    static func parse(_ text: String) -> [String: Double] {
        var result: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            result[String(line[..<space])] = value
        }
        return result
    }

    static func get(_ port: Int, _ path: String) async throws -> (Int, String) {
        let url = try #require(URL(string: "http://127.0.0.1:\(port)\(path)"))
        let (data, response) = try await URLSession.shared.data(from: url)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test("the worker's counters and the lag tracker write to the registry as things happen; /metrics renders it")
    func scrapesWorkerCountersLagAndHealth() async throws {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        let counters = WorkerCounters(factory: factory)
        for _ in 0..<7 { counters.sent.bump() }
        for _ in 0..<3 { counters.deadLettered.bump() }
        for _ in 0..<5 { counters.retried.bump() }
        counters.held.store(11)
        counters.lanes.store(4)
        counters.pausedForBackpressure.store(true)
        let lag = ConsumerLagTracker(factory: factory)
        lag.handle(KafkaStatisticsTests.sample)
        let ready = Atomic<Bool>(false)
        let server = try await MetricsServer.start(host: "127.0.0.1", port: 0, registry: registry, ready: { ready.load(ordering: .relaxed) })

        let (status, body) = try await Self.get(server.port, "/metrics")
        #expect(status == 200)
        let values = Self.parse(body)
        #expect(values[#"broadcast_worker_messages_total{outcome="sent"}"#] == 7)
        #expect(values[#"broadcast_worker_messages_total{outcome="dead_lettered"}"#] == 3)
        #expect(values["broadcast_worker_retries_total"] == 5)
        #expect(values["broadcast_worker_dead_letters_total"] == 3)
        #expect(values["broadcast_worker_records_held"] == 11)
        #expect(values["broadcast_worker_lanes"] == 4)
        #expect(values["broadcast_worker_sends_in_flight"] == 0)
        #expect(values["broadcast_worker_fetching_paused"] == 1)
        #expect(values[#"broadcast_consumer_lag{topic="broadcast.messages",partition="0"}"#] == 30)
        #expect(body.contains("# TYPE broadcast_worker_messages_total counter"))
        #expect(counters.snapshot.sent == 7 && counters.snapshot.fetchingPaused)

        // Counters follow the worker between scrapes; lag of partitions given up disappears.
        counters.sent.bump()
        counters.sent.bump()
        lag.handle(#"{"topics":{"broadcast.messages":{"partitions":{"2":{"consumer_lag":5}}}}}"#)
        let next = Self.parse(try await Self.get(server.port, "/metrics").1)
        #expect(next[#"broadcast_worker_messages_total{outcome="sent"}"#] == 9)
        #expect(next[#"broadcast_consumer_lag{topic="broadcast.messages",partition="2"}"#] == 5)
        #expect(next[#"broadcast_consumer_lag{topic="broadcast.messages",partition="0"}"#] == nil)

        #expect(try await Self.get(server.port, "/healthz").0 == 200)
        #expect(try await Self.get(server.port, "/readyz").0 == 503)
        ready.store(true, ordering: .relaxed)
        #expect(try await Self.get(server.port, "/readyz").0 == 200)
        #expect(try await Self.get(server.port, "/nope").0 == 404)
        await server.stop()
    }
}
