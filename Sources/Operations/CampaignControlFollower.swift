import BroadcastModel
import Foundation
import Kafka
import Logging
import Synchronization

/// Answers "what did operators last say about this campaign?". Implemented by the follower; tests
/// and single-process tools can use a fixed map.
public protocol CampaignControlLookup: Sendable {
    func latestAction(for campaignId: String) -> CampaignAction?
}

/// A fixed or hand-updated map of campaign actions.
public final class StaticCampaignControl: CampaignControlLookup {
    private let actions: Mutex<[String: CampaignAction]>
    public init(_ actions: [String: CampaignAction] = [:]) { self.actions = Mutex(actions) }
    public func set(_ action: CampaignAction?, for campaignId: String) { actions.withLock { $0[campaignId] = action } }
    public func latestAction(for campaignId: String) -> CampaignAction? { actions.withLock { $0[campaignId] } }
}

/// Follows the compacted control topic from the beginning (a unique group, never committing) and
/// keeps the latest record per campaign. Every worker runs one, so a pause reaches all of them as
/// fast as Kafka delivers a record (typically well under a second).
public final class CampaignControlFollower: CampaignControlLookup, Sendable {
    private let records = Mutex<[String: CampaignControlRecord]>([:])
    private let stream: TopicStream
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let caughtUp = Mutex(false)
    private let logger: Logger

    public init(client: KafkaClientOptions, topics: TopicNames, logger: Logger = Logger(label: "broadcast.control")) async throws(OperationsError) {
        self.logger = logger
        stream = try await TopicStream(client: client, topic: topics.control, logger: logger)
    }

    /// Reads what the topic holds now (so decisions right after start know every pause), then keeps
    /// following in the background until `stop`.
    public func start(timeout: Duration = .seconds(60)) async throws {
        try await stream.readToEnd(timeout: timeout) { batch in self.apply(batch) }
        caughtUp.withLock { $0 = true }
        let stream = stream
        let logger = logger
        task.withLock {
            $0 = Task {
                do {
                    try await stream.follow { batch in self.apply(batch) }
                } catch {
                    logger.error("campaign control follower stopped", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    public var isCaughtUp: Bool { caughtUp.withLock { $0 } }

    public func stop() async {
        await cancelAndWait(task)
        await stream.close()
    }

    public func latestAction(for campaignId: String) -> CampaignAction? {
        records.withLock { $0[campaignId]?.action }
    }

    public func latestRecord(for campaignId: String) -> CampaignControlRecord? {
        records.withLock { $0[campaignId] }
    }

    public var all: [String: CampaignControlRecord] { records.withLock { $0 } }

    private func apply(_ batch: ConsumerBatch) {
        // The log order of a key's partition is the order operators acted in; clocks of their
        // machines may disagree, so `at` is not used to pick the winner.
        var updates: [(String, CampaignControlRecord?)] = []
        for message in batch {
            guard let key = message.keyString else { continue }
            guard let value = message.valueBytes else {
                updates.append((key, nil))  // a tombstone forgets the campaign
                continue
            }
            do {
                updates.append((key, try CampaignControlRecord.decode(value)))
            } catch {
                logger.warning("skipped an unreadable control record", metadata: [
                    "campaign": "\(key)", "partition": "\(message.partition)", "offset": "\(message.offset)", "error": "\(error)",
                ])
            }
        }
        guard !updates.isEmpty else { return }
        records.withLock { records in
            for (key, record) in updates { records[key] = record }
        }
        for (key, record) in updates {
            logger.info("campaign control", metadata: ["campaign": "\(key)", "action": "\(record?.action.rawValue ?? "cleared")"])
        }
    }
}

/// Campaign control for a worker that must start even when the control topic is missing or the
/// cluster is unreachable for a moment: it keeps trying to follow the topic in the background and
/// answers "no action" until it can.
public final class BackgroundCampaignControl: CampaignControlLookup, Sendable {
    private let follower = Mutex<CampaignControlFollower?>(nil)
    private let task = Mutex<Task<Void, Never>?>(nil)

    public init() {}

    /// Starts following; returns once the topic was read to its end or the first try failed.
    public func start(client: KafkaClientOptions, topics: TopicNames, logger: Logger, retryEvery: Duration = .seconds(10)) async {
        let started = AsyncStream<Void>.makeStream()
        let work = Task { [self] in
            var announced = false
            while !Task.isCancelled {
                do {
                    let candidate = try await CampaignControlFollower(client: client, topics: topics, logger: logger)
                    try await candidate.start(timeout: .seconds(15))
                    self.follower.withLock { $0 = candidate }
                    started.continuation.finish()
                    return
                } catch {
                    if !announced {
                        logger.warning("campaign control not followed yet; pauses and cancels apply once it is", metadata: ["error": "\(error)"])
                        announced = true
                    }
                    started.continuation.finish()
                    try? await Task.sleep(for: retryEvery)
                }
            }
        }
        task.withLock { $0 = work }
        for await _ in started.stream {}
    }

    public func stop() async {
        await cancelAndWait(task)
        await follower.withLock { $0 }?.stop()
    }

    public func latestAction(for campaignId: String) -> CampaignAction? {
        follower.withLock { $0 }?.latestAction(for: campaignId)
    }
}

/// Takes the task out of `slot` (so a second stop finds none), cancels it and waits for its end.
private func cancelAndWait(_ slot: borrowing Mutex<Task<Void, Never>?>) async {
    let running = slot.withLock { task in
        defer { task = nil }
        return task
    }
    running?.cancel()
    await running?.value
}
