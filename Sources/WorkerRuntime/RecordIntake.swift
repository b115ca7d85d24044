import BroadcastModel
import Kafka

/// The verdict on one consumed record, reached outside the worker's lock.
enum IntakeVerdict: Sendable {
    case accept(BroadcastMessage)
    /// Goes to the dead-letter topic unchanged; `message` is set when it decoded far enough to name it.
    case deadLetter(reason: DeadLetterReason, error: String, key: [UInt8]?, value: [UInt8]?, message: BroadcastMessage?)
}

enum RecordIntake {
    /// Decodes, validates and checks that the key is the device id.
    static func examine(_ record: ConsumerMessage) -> IntakeVerdict {
        guard let value = record.value else {
            return .deadLetter(reason: .undecodable, error: "the record has no value", key: record.keyBytes, value: nil, message: nil)
        }
        let message: BroadcastMessage
        do {
            message = try BroadcastMessage.decode(from: value)
        } catch {
            return .deadLetter(reason: DeadLetterReason(error), error: "\(error)", key: record.keyBytes, value: record.valueBytes, message: nil)
        }
        do {
            try message.validate()
        } catch {
            return .deadLetter(reason: .invalid, error: "\(error)", key: record.keyBytes, value: record.valueBytes, message: message)
        }
        guard let key = record.key, key.elementsEqual(message.deviceId.utf8) else {
            let found = record.keyString.map { "'\($0)'" } ?? "no key"
            return .deadLetter(
                reason: .keyMismatch, error: "key \(found) is not the deviceId '\(message.deviceId)': device order cannot hold",
                key: record.keyBytes, value: record.valueBytes, message: message
            )
        }
        return .accept(message)
    }
}
