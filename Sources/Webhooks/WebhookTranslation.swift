import BroadcastModel
import Foundation
import Kafka

/// Which of our devices a webhook is about: Cloud API bodies name the phone number id, gateway
/// bodies the instance. Unknown ones keep a recognisable id (`whatsapp-cloud:<id>`, `gateway:<instance>`).
public struct WebhookDevices: Sendable, Equatable {
    public var cloudPhoneNumberIds: [String: String]
    public var gatewayInstances: [String: String]

    public init(cloudPhoneNumberIds: [String: String] = [:], gatewayInstances: [String: String] = [:]) {
        self.cloudPhoneNumberIds = cloudPhoneNumberIds
        self.gatewayInstances = gatewayInstances
    }

    func cloudDevice(phoneNumberId: String) -> String {
        cloudPhoneNumberIds[phoneNumberId] ?? "whatsapp-cloud:\(phoneNumberId)"
    }

    func gatewayDevice(instance: String) -> String {
        gatewayInstances[instance] ?? "gateway:\(instance)"
    }
}

/// Finds our message id for a provider message id (gateways cannot echo our id).
public protocol ProviderMessageLookup: Sendable {
    func messageId(forProviderMessageId id: String) -> String?
}

/// No lookup: gateway receipts stay unmatched.
public struct NoProviderMessageLookup: ProviderMessageLookup {
    public init() {}
    public func messageId(forProviderMessageId id: String) -> String? { nil }
}

/// One record the receiver publishes.
public enum WebhookEvent: Sendable, Equatable {
    case status(StatusEvent)
    case inbound(InboundMessage)
    /// The contact wrote an opt-out keyword: the phone goes on the opt-out topic.
    case optOut(phone: String, inboundId: String)

    /// Deterministic identity: the same receipt or message redelivered by the provider gets the
    /// same one, whatever else differs in the body.
    public var identity: String {
        switch self {
        case .status(let event): "status|\(event.messageId)|\(event.status.rawValue)"
        case .inbound(let message): "inbound|\(message.id)"
        case .optOut(_, let inboundId): "optout|\(inboundId)"
        }
    }

    private static let statusHeaders = [KafkaHeader(RecordSchema.statusHeader)]
    private static let inboundHeaders = [KafkaHeader(RecordSchema.inboundHeader)]

    func record(topics: TopicNames) -> ProducerRecord {
        switch self {
        case .status(let event):
            ProducerRecord(topic: topics.status, key: Array(event.messageId.utf8), value: event.encoded(), headers: Self.statusHeaders)
        case .inbound(let message):
            ProducerRecord(topic: topics.inbound, key: Array(message.deviceId.utf8), value: message.encoded(), headers: Self.inboundHeaders)
        case .optOut(let phone, _):
            // The opt-out topic's format (DevicePolicies.OptOutRecord): key = E.164 phone, any value opts out.
            ProducerRecord(topic: topics.optOuts, key: Array(phone.utf8), value: Array("1".utf8))
        }
    }
}

/// What one webhook body turned into.
public struct WebhookTranslation: Sendable, Equatable {
    public var events: [WebhookEvent] = []
    /// Receipts or messages nothing could match to one of our messages (or read as a phone).
    public var unmatched = 0
    /// Members we do not publish (Meta's `sent`, our own echoed sends, other event kinds).
    public var ignored = 0

    public init() {}
}

/// Messages that mean "stop messaging me", matched on the whole message (case, spaces and
/// trailing punctuation ignored), so "Stop!" opts out but "don't stop the offers" does not.
public struct OptOutKeywords: Sendable, Equatable {
    /// English, Malay/Indonesian, Portuguese, Spanish, French and German defaults.
    public static let defaults = [
        "STOP", "STOP ALL", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPT OUT", "OPTOUT",
        "BERHENTI", "BATAL", "STOP LANGGANAN", "HENTIKAN",
        "PARAR", "SAIR", "CANCELAR", "BAJA", "ALTO", "ARRET", "ARRÊT", "DESINSCRIRE", "STOPP", "ABMELDEN",
    ]

    public let words: Set<String>

    public init(_ words: [String] = OptOutKeywords.defaults) {
        self.words = Set(words.map(Self.normalize).filter { !$0.isEmpty })
    }

    public func matches(_ text: String?) -> Bool {
        guard let text, text.count <= 40 else { return false }
        return words.contains(Self.normalize(text))
    }

    static func normalize(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines.union(.punctuationCharacters).union(.symbols))
        return trimmed.split(whereSeparator: \.isWhitespace).joined(separator: " ").uppercased()
    }
}
