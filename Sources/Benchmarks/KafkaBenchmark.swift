import Foundation
import Kafka
import Logging

/// Produces and consumes keyed records through the binding and through kcat on the same embedded
/// cluster, in one run, and reports both rates and their ratios.
public struct KafkaBenchmark: Sendable {
    public var records = 1_000_000
    public var valueSize = 300
    public var partitions = 128
    public var keys = 10_000
    public var kcatPath: String?

    public init() {}

    public var rounds = 3

    /// Medians over the rounds; each ratio is the median of the per-round ratios (binding ÷ kcat).
    public struct Result: Codable, Sendable {
        public var records: Int
        public var valueBytes: Int
        public var partitions: Int
        public var rounds: Int
        public var bindingProducePerSecond: Double
        public var bindingConsumePerSecond: Double
        public var kcatProducePerSecond: Double?
        public var kcatConsumePerSecond: Double?
        public var produceRatio: Double?
        public var consumeRatio: Double?
        public var note: String
    }

    private struct Round {
        var bindingProduce: Double
        var bindingConsume: Double
        var kcatProduce: Double?
        var kcatConsume: Double?
    }

    public func run(logger: Logger) async throws -> Result {
        let cluster = try EmbeddedKafkaCluster(brokers: 3, logger: logger)
        defer { cluster.shutDown() }
        let kcat = kcatPath ?? which("kcat") ?? which("kafkacat")
        let keyBytes = (0..<keys).map { Array("device-\($0)".utf8) }
        let value = [UInt8](repeating: UInt8(ascii: "x"), count: valueSize)
        let kcatInput = try kcat.map { _ in try writeKcatInput() }
        defer { kcatInput.map { try? FileManager.default.removeItem(at: $0) } }

        var measured: [Round] = []
        for round in 0..<max(1, rounds) {
            // Each side writes a topic of its own; both consumers read the binding's topic.
            let bindingTopic = "bench.binding.\(round)"
            let kcatTopic = "bench.kcat.\(round)"
            try cluster.createTopic(bindingTopic, partitions: partitions)
            try cluster.createTopic(kcatTopic, partitions: partitions)
            var result = Round(
                bindingProduce: try await produceWithBinding(cluster: cluster, topic: bindingTopic, keys: keyBytes, value: value, logger: logger),
                bindingConsume: 0
            )
            if let kcat, let kcatInput {
                result.kcatProduce = try produceWithKcat(kcat, cluster: cluster, topic: kcatTopic, input: kcatInput)
            }
            result.bindingConsume = try await consumeWithBinding(cluster: cluster, topic: bindingTopic, logger: logger)
            if let kcat {
                result.kcatConsume = try consumeWithKcat(kcat, cluster: cluster, topic: bindingTopic)
            }
            logger.info("kafka benchmark round", metadata: [
                "round": "\(round + 1)", "bindingProduce": "\(Int(result.bindingProduce))", "kcatProduce": "\(Int(result.kcatProduce ?? 0))",
                "bindingConsume": "\(Int(result.bindingConsume))", "kcatConsume": "\(Int(result.kcatConsume ?? 0))",
            ])
            measured.append(result)
        }
        func ratio(_ a: KeyPath<Round, Double>, _ b: KeyPath<Round, Double?>) -> Double? {
            let ratios = measured.compactMap { round in round[keyPath: b].map { round[keyPath: a] / $0 } }
            return ratios.isEmpty ? nil : rounded(median(ratios))
        }
        return Result(
            records: records, valueBytes: valueSize, partitions: partitions, rounds: measured.count,
            bindingProducePerSecond: rounded(median(measured.map(\.bindingProduce)), places: 0),
            bindingConsumePerSecond: rounded(median(measured.map(\.bindingConsume)), places: 0),
            kcatProducePerSecond: kcat == nil ? nil : rounded(median(measured.compactMap(\.kcatProduce)), places: 0),
            kcatConsumePerSecond: kcat == nil ? nil : rounded(median(measured.compactMap(\.kcatConsume)), places: 0),
            produceRatio: ratio(\.bindingProduce, \.kcatProduce),
            consumeRatio: ratio(\.bindingConsume, \.kcatConsume),
            note: kcat == nil
                ? "kcat not found: no comparison"
                : "medians of \(measured.count) rounds; binding consume is timed from the first batch (after the group join) to the last record, kcat -C as a whole process reading partitions without a group"
        )
    }

    private var producerProperties: [String: String] {
        ["linger.ms": "5", "enable.idempotence": "true", "acks": "all", "partitioner": "murmur2_random"]
    }

    private func produceWithBinding(cluster: EmbeddedKafkaCluster, topic: String, keys: [[UInt8]], value: [UInt8], logger: Logger) async throws -> Double {
        var configuration = ProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
        configuration.lingerMilliseconds = 5
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        // Warm the connections and metadata so both sides start equal.
        _ = try await producer.send(ProducerRecord(topic: topic, key: keys[0], value: value))
        let clock = Stopwatch()
        var pending: [PendingDeliveries] = []
        let chunk = 20_000
        var sent = 0
        while sent < records {
            let count = min(chunk, records - sent)
            let batch = (sent..<(sent + count)).map { ProducerRecord(topic: topic, key: keys[$0 % keys.count], value: value) }
            pending.append(try await producer.enqueue(batch))
            sent += count
        }
        var failed = 0
        for deliveries in pending {
            failed += await deliveries.wait().filter { if case .failure = $0 { true } else { false } }.count
        }
        let elapsed = clock.elapsedSeconds
        await producer.close()
        guard failed == 0 else { throw BenchmarkError.incomplete("\(failed) records not acknowledged") }
        return Double(records) / elapsed
    }

    private func consumeWithBinding(cluster: EmbeddedKafkaCluster, topic: String, logger: Logger) async throws -> Double {
        var configuration = ConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupId: "bench-\(UUID().uuidString)")
        configuration.assignmentStrategy = .roundRobin
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        try consumer.subscribe(topics: [topic])
        let expected = records + 1  // the warm-up record
        var seen = 0
        var clock: Stopwatch?
        for await event in consumer.events {
            guard case .messages(let batch) = event else { continue }
            if clock == nil { clock = Stopwatch() }
            for message in batch {
                // Touch the payload as an application would, without copying it.
                seen += (message.value?.count ?? 0) > 0 ? 1 : 0
            }
            if seen >= expected { break }
        }
        let elapsed = clock?.elapsedSeconds ?? 0
        await consumer.close()
        guard seen >= expected, elapsed > 0 else { throw BenchmarkError.incomplete("consumed \(seen) of \(expected)") }
        return Double(seen) / elapsed
    }

    /// kcat reads `key<TAB>value` lines; written once, outside the timed part.
    private func writeKcatInput() throws -> URL {
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("broadcast-bench-\(UUID().uuidString).txt")
        let value = String(repeating: "x", count: valueSize)
        var text = ""
        text.reserveCapacity(records * (valueSize + 16))
        for index in 0..<records {
            text += "device-\(index % keys)\t\(value)\n"
        }
        try text.write(to: input, atomically: false, encoding: .utf8)
        return input
    }

    private func produceWithKcat(_ kcat: String, cluster: EmbeddedKafkaCluster, topic: String, input: URL) throws -> Double {
        var arguments = ["-P", "-b", cluster.bootstrapServers, "-t", topic, "-K", "\t", "-q"]
        for (key, value) in producerProperties.sorted(by: { $0.key < $1.key }) { arguments += ["-X", "\(key)=\(value)"] }
        let elapsed = try runTimed(kcat, arguments, stdin: input)
        return Double(records) / elapsed
    }

    private func consumeWithKcat(_ kcat: String, cluster: EmbeddedKafkaCluster, topic: String) throws -> Double {
        let elapsed = try runTimed(kcat, ["-C", "-b", cluster.bootstrapServers, "-t", topic, "-o", "beginning", "-e", "-q", "-c", String(records + 1)])
        return Double(records + 1) / elapsed
    }
}
