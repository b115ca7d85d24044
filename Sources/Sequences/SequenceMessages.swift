import BroadcastModel
import Foundation
import Kafka

/// Topics the scheduler writes to; the caller decides the names (prefixes and all).
public struct SequenceTopics: Sendable, Equatable {
    public var messages: String
    public var status: String

    public init(messages: String, status: String) {
        self.messages = messages
        self.status = status
    }
}

/// Builds the records of one step for one enrolment.
public enum SequenceMessages {
    /// Deterministic, so a pass that crashed before recording progress republishes the same id
    /// and the worker's idempotency drops the duplicate: `seq-<sequence>-<enrolment>-<step index>`.
    public static func messageId(sequenceId: String, enrolmentId: Int64, stepIndex: Int) -> String {
        "seq-\(sequenceId)-\(enrolmentId)-\(stepIndex)"
    }

    /// The message of `sequence.steps[stepIndex]` for `enrolment`, or nil when the step does not exist.
    public static func message(
        sequence: SequenceDefinition, enrolment: Enrolment, stepIndex: Int, createdAt: Date
    ) -> BroadcastMessage? {
        guard sequence.steps.indices.contains(stepIndex),
              let timing = StepSchedule.timing(of: sequence, stepIndex: stepIndex, enrolledAt: enrolment.enrolledAt)
        else { return nil }
        let step = sequence.steps[stepIndex]
        let contact = enrolment.contact
        return BroadcastMessage(
            id: messageId(sequenceId: sequence.id, enrolmentId: enrolment.id, stepIndex: stepIndex),
            userId: sequence.userId, deviceId: contact.deviceId, source: .sequence,
            sequenceId: sequence.id, sequenceStepId: step.id,
            recipient: .init(phone: contact.phone, name: contact.name),
            content: step.content, delay: step.delay,
            scheduledAt: timing.scheduledAt, expiresAt: timing.expiresAt, createdAt: createdAt,
            attributes: contact.attributes.isEmpty ? nil : contact.attributes)
    }

    /// The message record (key = device) and its `queued` status record (key = message id).
    public static func records(for message: BroadcastMessage, topics: SequenceTopics, at now: Date) -> [ProducerRecord] {
        let status = StatusEvent(for: message, status: .queued, at: now)
        return [
            ProducerRecord(
                topic: topics.messages, key: message.deviceId, value: message.encoded(),
                headers: [KafkaHeader(RecordSchema.messageHeader)]),
            ProducerRecord(
                topic: topics.status, key: message.id, value: status.encoded(),
                headers: [KafkaHeader(RecordSchema.statusHeader)]),
        ]
    }
}
