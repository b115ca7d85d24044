import BroadcastModel
import Foundation
import Kafka
import Logging

/// Publishes the sequence steps that are due and advances enrolments.
///
/// One pass: read active enrolments, build every due step's message (deterministic id), publish
/// messages and their `queued` status events, and only for the steps Kafka acknowledged (both
/// records) record progress. A crash anywhere before that record republishes the same ids next
/// pass; progress is never recorded for an unacknowledged step, so no step is skipped.
public struct SequenceScheduler: Sendable {
    public var store: any SequenceStore
    public var producer: KafkaProducer
    public var topics: SequenceTopics
    /// The clock; tests inject fixed instants.
    public var now: @Sendable () -> Date
    /// Bounds the messages held and published by one pass; the rest follow on the next pass.
    public var maxMessagesPerPass = 10_000
    public var logger: Logger

    public init(
        store: any SequenceStore, producer: KafkaProducer, topics: SequenceTopics,
        now: @escaping @Sendable () -> Date = { Date() }, logger: Logger = Logger(label: "broadcast.sequences")
    ) {
        self.store = store
        self.producer = producer
        self.topics = topics
        self.now = now
        self.logger = logger
    }

    /// What one pass did.
    public struct PassReport: Equatable, Sendable {
        /// Ids of messages Kafka acknowledged (with their status events), in publish order.
        public var published: [String] = []
        /// Message id → why it was not acknowledged; retried next pass with the same id.
        public var failed: [String: String] = [:]
        /// Enrolments whose progress was recorded.
        public var advanced = 0
        public var completed = 0
        public var handedOver = 0
        /// Finished enrolments waiting for their hand-over sequence to be defined.
        public var pendingHandOvers = 0
    }

    /// Runs passes every `interval` until the task is cancelled; a failed pass is logged and retried.
    public func run(interval: Duration) async {
        while !Task.isCancelled {
            do {
                let report = try await runOnce()
                if !report.published.isEmpty || !report.failed.isEmpty {
                    logger.info("sequence pass", metadata: report.metadata)
                }
            } catch {
                logger.error("sequence pass failed; retrying next interval", metadata: ["error": "\(error)"])
            }
            do { try await Task.sleep(for: interval) } catch { break }
        }
    }

    /// One pass at `at` (default: the injected clock).
    public func runOnce(at instant: Date? = nil) async throws(SchedulerError) -> PassReport {
        let now = instant ?? self.now()
        let sequences: [String: SequenceDefinition]
        let enrolments: [Enrolment]
        do {
            sequences = Dictionary(uniqueKeysWithValues: try await store.sequences().map { ($0.id, $0) })
            enrolments = try await store.activeEnrolments()
        } catch {
            throw .store(error)
        }

        let plan = plan(enrolments: enrolments, sequences: sequences, now: now)
        var report = PassReport()
        let acknowledged = try await publish(plan.flatMap(\.messages), now: now, report: &report)

        for item in plan {
            let done = item.messages.prefix { acknowledged.contains($0.id) }.count
            let to = item.enrolment.currentStep + done
            let finish: Finish? = to >= item.sequence.steps.count
                ? item.sequence.handOver.map { .handOver(to: $0) } ?? .complete
                : nil
            guard done > 0 || finish != nil else { continue }
            let outcome: AdvanceOutcome
            do {
                outcome = try await store.advance(
                    enrolmentId: item.enrolment.id, from: item.enrolment.currentStep, to: to, finish: finish, at: now)
            } catch {
                throw .store(error)
            }
            record(outcome, of: item, into: &report)
        }
        return report
    }

    /// The due steps of one enrolment, in order.
    struct Planned {
        var enrolment: Enrolment
        var sequence: SequenceDefinition
        var messages: [BroadcastMessage]
    }

    func plan(enrolments: [Enrolment], sequences: [String: SequenceDefinition], now: Date) -> [Planned] {
        var planned: [Planned] = []
        var budget = maxMessagesPerPass
        for enrolment in enrolments where budget > 0 {
            guard let sequence = sequences[enrolment.sequenceId] else { continue }
            var messages: [BroadcastMessage] = []
            var step = enrolment.currentStep
            while step < sequence.steps.count, budget > 0,
                  let message = SequenceMessages.message(sequence: sequence, enrolment: enrolment, stepIndex: step, createdAt: now),
                  message.scheduledAt <= now {
                do {
                    try message.validate()
                } catch {
                    // Defined steps and imported contacts are validated, so this is a stored row gone bad.
                    logger.error("sequence message invalid; enrolment held at this step", metadata: [
                        "messageId": "\(message.id)", "phone": "\(PhoneNumber.masked(enrolment.contact.phone))",
                        "error": "\(error)",
                    ])
                    break
                }
                messages.append(message)
                budget -= 1
                step += 1
            }
            // An enrolment past its last step still needs finishing (hand-over pending, or steps removed).
            if !messages.isEmpty || enrolment.currentStep >= sequence.steps.count {
                planned.append(Planned(enrolment: enrolment, sequence: sequence, messages: messages))
            }
        }
        return planned
    }

    /// Publishes messages and status events together; returns the ids whose two records were both acknowledged.
    private func publish(_ messages: [BroadcastMessage], now: Date, report: inout PassReport) async throws(SchedulerError) -> Set<String> {
        guard !messages.isEmpty else { return [] }
        let records = messages.flatMap { SequenceMessages.records(for: $0, topics: topics, at: now) }
        let results: [DeliveryResult]
        do {
            results = try await producer.enqueue(records).wait()
        } catch {
            throw .kafka(error)
        }
        var acknowledged: Set<String> = []
        for (index, message) in messages.enumerated() {
            let pair = results[(2 * index)..<(2 * index + 2)]
            if let failure = pair.lazy.compactMap({ result -> KafkaError? in
                if case .failure(let error) = result { return error }
                return nil
            }).first {
                report.failed[message.id] = failure.description
                logger.warning("sequence step not acknowledged; republished next pass", metadata: [
                    "messageId": "\(message.id)", "phone": "\(PhoneNumber.masked(message.recipient.phone))",
                    "error": "\(failure)",
                ])
            } else {
                acknowledged.insert(message.id)
                report.published.append(message.id)
                logger.debug("sequence step published", metadata: [
                    "messageId": "\(message.id)", "phone": "\(PhoneNumber.masked(message.recipient.phone))",
                    "scheduledAt": "\(Timestamp.format(message.scheduledAt))",
                ])
            }
        }
        return acknowledged
    }

    private func record(_ outcome: AdvanceOutcome, of item: Planned, into report: inout PassReport) {
        let phone = PhoneNumber.masked(item.enrolment.contact.phone)
        switch outcome {
        case .advanced:
            report.advanced += 1
        case .completed:
            report.advanced += 1
            report.completed += 1
            logger.info("sequence completed", metadata: ["sequence": "\(item.sequence.id)", "phone": "\(phone)"])
        case .handedOver(let next):
            report.advanced += 1
            report.handedOver += 1
            logger.info("sequence handed over", metadata: [
                "sequence": "\(item.sequence.id)", "to": "\(item.sequence.handOver ?? "")", "phone": "\(phone)",
                "newEnrolment": "\(next.map(String.init) ?? "already active")",
            ])
        case .handOverPending:
            report.advanced += 1
            report.pendingHandOvers += 1
            logger.warning("hand-over sequence not defined; retrying each pass", metadata: [
                "sequence": "\(item.sequence.id)", "to": "\(item.sequence.handOver ?? "")", "phone": "\(phone)",
            ])
        case .unchanged:
            // Stopped (or advanced by another runner) while this pass published: its messages carry
            // the same ids as before, and the worker's opt-out check holds back a stopped contact.
            logger.notice("enrolment changed during the pass; progress not recorded", metadata: [
                "enrolment": "\(item.enrolment.id)", "phone": "\(phone)",
            ])
        }
    }
}

extension SequenceScheduler.PassReport {
    var metadata: Logger.Metadata {
        [
            "published": "\(published.count)", "failed": "\(failed.count)", "advanced": "\(advanced)",
            "completed": "\(completed)", "handedOver": "\(handedOver)", "pendingHandOvers": "\(pendingHandOvers)",
        ]
    }
}

public enum SchedulerError: Error, Sendable, CustomStringConvertible {
    case store(SequenceStoreError)
    case kafka(KafkaError)

    public var description: String {
        switch self {
        case .store(let error): "\(error)"
        case .kafka(let error): "publishing sequence steps: \(error)"
        }
    }
}
