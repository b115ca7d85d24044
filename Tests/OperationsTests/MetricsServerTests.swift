import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import Operations
import Synchronization
import Testing
import WorkerRuntime

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

    @Test func scrapesWorkerCountersLagAndHealth() async throws {
        let snapshotJSON = #"{"sent":7,"failed":2,"retried":5,"skipped":1,"expired":0,"deadLettered":3,"held":11,"lanes":4,"fetchingPaused":true}"#
        let snapshot = try JSONDecoder().decode(WorkerCounters.Snapshot.self, from: Data(snapshotJSON.utf8))
        let sample = Mutex(WorkerMetricsSample(snapshot))
        let lag = ConsumerLagTracker()
        lag.handle(KafkaStatisticsTests.sample)
        let ready = Atomic<Bool>(false)
        let metrics = WorkerMetrics(sample: { sample.withLock { $0 } }, lags: { lag.lags })
        let server = try await MetricsServer.start(
            host: "127.0.0.1", port: 0,
            routes: MetricsRoutes(metrics: { metrics.render() }, ready: { ready.load(ordering: .relaxed) }))

        let (status, body) = try await Self.get(server.port, "/metrics")
        #expect(status == 200)
        let values = Self.parse(body)
        #expect(values[#"broadcast_worker_messages_total{outcome="sent"}"#] == 7)
        #expect(values[#"broadcast_worker_messages_total{outcome="dead_lettered"}"#] == 3)
        #expect(values["broadcast_worker_retries_total"] == 5)
        #expect(values["broadcast_worker_dead_letters_total"] == 3)
        #expect(values["broadcast_worker_records_held"] == 11)
        #expect(values["broadcast_worker_lanes"] == 4)
        #expect(values["broadcast_worker_fetching_paused"] == 1)
        #expect(values[#"broadcast_consumer_lag{topic="broadcast.messages",partition="0"}"#] == 30)
        #expect(body.contains("# TYPE broadcast_worker_messages_total counter"))

        // Counters follow the worker's totals between scrapes; lag of partitions given up disappears.
        sample.withLock { $0.sent = 9 }
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

    @Test func oneCallWorkerServer() async throws {
        let snapshot = try JSONDecoder().decode(
            WorkerCounters.Snapshot.self,
            from: Data(#"{"sent":1,"failed":0,"retried":0,"skipped":0,"expired":0,"deadLettered":0,"held":0,"lanes":0,"fetchingPaused":false}"#.utf8))
        let server = try await MetricsServer.startForWorker(host: "127.0.0.1", port: 0, snapshot: { snapshot })
        let values = Self.parse(try await Self.get(server.port, "/metrics").1)
        #expect(values[#"broadcast_worker_messages_total{outcome="sent"}"#] == 1)
        await server.stop()
    }
}
