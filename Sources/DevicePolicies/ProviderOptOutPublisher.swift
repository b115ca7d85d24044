import Kafka
import Logging
import Synchronization

/// Writes phones the provider reports as opted out (Cloud API 131050) to the opt-out topic, so that
/// every worker (and the next campaign) skips them, as `broadcast optout add` would. The producer is
/// attached once it exists; a phone reported before that is only in the local store.
public final class ProviderOptOutPublisher: Sendable {
    private let target = Mutex<(producer: KafkaProducer, topic: String)?>(nil)
    private let logger: Logger

    public init(logger: Logger = Logger(label: "broadcast.policy")) {
        self.logger = logger
    }

    public func attach(producer: KafkaProducer, topic: String) {
        target.withLock { $0 = (producer, topic) }
    }

    /// For ``AntiSpamPolicy``'s `onProviderOptOut`.
    public func publish(_ phone: String) {
        guard let (producer, topic) = target.withLock({ $0 }) else { return }
        do {
            try producer.produce(OptOutRecord.record(topic: topic, phone: phone, optedOut: true)) { [logger] result in
                if case .failure(let error) = result {
                    logger.error("provider opt-out not written to the opt-out topic", metadata: ["topic": "\(topic)", "error": "\(error)"])
                }
            }
        } catch {
            logger.error("provider opt-out not written to the opt-out topic", metadata: ["topic": "\(topic)", "error": "\(error)"])
        }
    }
}
