import ContactFiles
import BroadcastModel
import Kafka

/// Why a campaign was not (fully) published. Each case says what to do about it.
public enum PublishError: Error, Sendable, CustomStringConvertible {
    case campaign(CampaignFileError)
    case optOut(PhoneListError)
    case recipientsFile(CSVError)
    /// Rows are invalid and `--skip-invalid` was not given; the plan lists every one.
    case invalidRecipients(count: Int)
    /// The recipients file changed between validation and publishing.
    case recipientsChanged(path: String)
    case kafka(KafkaError)

    public var description: String {
        switch self {
        case .campaign(let error): error.description
        case .optOut(let error): error.description
        case .recipientsFile(let error): "recipients file \(error)"
        case .invalidRecipients(let count):
            "\(count) recipient row\(count == 1 ? " is" : "s are") invalid; nothing was published. Fix them, or pass --skip-invalid to publish the valid rows only."
        case .recipientsChanged(let path):
            "\(path) changed while the campaign was being published; run again (message ids are stable, so re-publishing is safe)"
        case .kafka(let error): "Kafka: \(error)"
        }
    }
}
