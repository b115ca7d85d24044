import BroadcastModel
import Foundation
import Kafka
import Logging
import Sequences
import Synchronization

/// A two-step welcome sequence whose steps are both due on the day of enrolment, in a temporary
/// SQLite store, published by the real scheduler while the run goes on.
final class DemoSequence: Sendable {
    private let scheduler: SequenceScheduler
    let store: SQLiteSequenceStore
    private let passes = Mutex<(count: Int, lastPublished: Int)>((0, -1))
    let minimumDelay: Double

    init(
        contacts: Int, devices: [String], delay: (min: Double, max: Double), directory: URL,
        producer: KafkaProducer, topics: TopicNames, logger: Logger
    ) async throws {
        store = try SQLiteSequenceStore(path: directory.appendingPathComponent("sequences.sqlite").path)
        // A window around the whole day (UTC) so both day-0 steps are due at once.
        let definition = try SequenceFile.parse("""
            id: demo-welcome
            name: Demo welcome
            userId: demo-user
            timeZone: UTC
            window: { start: "00:00", end: "23:59" }
            delay: { minSeconds: \(delay.min), maxSeconds: \(delay.max) }
            steps:
              - id: hello
                dayOffset: 0
                content: { type: text, text: "{Hi|Hello} {name}, welcome aboard!" }
              - id: tips
                dayOffset: 0
                content: { type: text, text: "{name}, here is a tip to get started." }
            """)
        let now = Date()
        _ = try await store.define(definition, at: now)
        let enrolled = (0..<contacts).map { index in
            Contact(phone: Self.phone(index), name: "Member \(index)", deviceId: devices[index % devices.count])
        }
        _ = try await store.enroll(enrolled, in: definition.id, at: now)
        scheduler = SequenceScheduler(
            store: store, producer: producer,
            topics: SequenceTopics(messages: topics.messages, status: topics.status), logger: logger
        )
        minimumDelay = delay.min
    }

    static func phone(_ index: Int) -> String { "+6019\(String(format: "%07d", 1_000_000 + index))" }

    /// One scheduler pass; returns the ids it published.
    func publishDue() async throws -> Set<String> {
        let report = try await scheduler.runOnce()
        passes.withLock { $0 = ($0.count + 1, report.published.count) }
        return Set(report.published)
    }

    /// A pass after the first published nothing: every due step is out.
    var isDone: Bool { passes.withLock { $0.count > 1 && $0.lastPublished == 0 } }
}
