import BroadcastModel
import Foundation
import Kafka
import Logging
import Synchronization

/// Publishes records and says whether Kafka acknowledged every one.
public protocol WebhookPublisher: Sendable {
    func publish(_ records: [ProducerRecord]) async -> Result<Void, KafkaError>
}

/// The producer path: waits for the delivery report of every record.
public struct KafkaWebhookPublisher: WebhookPublisher {
    public let producer: KafkaProducer

    public init(producer: KafkaProducer) {
        self.producer = producer
    }

    public func publish(_ records: [ProducerRecord]) async -> Result<Void, KafkaError> {
        do {
            for result in try await producer.send(records) {
                if case .failure(let error) = result { return .failure(error) }
            }
            return .success(())
        } catch {
            return .failure(error)
        }
    }
}

/// An HTTP request as the receiver sees it (the server hands it over whole).
public struct WebhookRequest: Sendable {
    public var method: String
    /// Path without the query.
    public var path: String
    public var query: [String: String]
    /// Header names lower-cased.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { _, last in last })
        self.body = body
    }
}

public struct WebhookResponse: Sendable, Equatable {
    public var status: Int
    public var body: String

    public init(status: Int, body: String) {
        self.status = status
        self.body = body
    }
}

/// The receiver's logic, free of HTTP plumbing: verification, signature, parsing, de-duplication,
/// publishing. A POST is answered 200 only after Kafka acknowledged everything it produced, so a
/// provider that gets anything else retries and nothing is lost.
public final class WebhookReceiver: Sendable {
    public struct Configuration: Sendable {
        /// Meta app secret (HMAC key of `X-Hub-Signature-256`); nil refuses every Cloud API POST.
        public var appSecret: String?
        /// The token typed into Meta's webhook settings, echoed back in the GET verification.
        public var verifyToken: String?
        /// Shared token gateways send in `X-Webhook-Token` (or `?token=`); nil refuses gateway POSTs.
        public var gatewayToken: String?
        public var devices: WebhookDevices
        public var topics: TopicNames
        /// Distinct events remembered to drop redeliveries (see ``RecentIDs``).
        public var recentEventCapacity: Int
        /// Written as `worker` on receipts.
        public var name: String
        /// Whole-message keywords that opt the contact out.
        public var optOutKeywords: OptOutKeywords

        public init(
            appSecret: String?, verifyToken: String?, gatewayToken: String? = nil, devices: WebhookDevices = WebhookDevices(),
            topics: TopicNames = TopicNames(), recentEventCapacity: Int = 200_000, name: String = "webhooks",
            optOutKeywords: OptOutKeywords = OptOutKeywords()
        ) {
            self.optOutKeywords = optOutKeywords
            self.appSecret = appSecret
            self.verifyToken = verifyToken
            self.gatewayToken = gatewayToken
            self.devices = devices
            self.topics = topics
            self.recentEventCapacity = max(1, recentEventCapacity)
            self.name = name
        }
    }

    /// Counters for logs, the benchmark and tests.
    public struct Counters: Sendable, Equatable {
        public var accepted = 0
        public var published = 0
        public var duplicates = 0
        public var unmatched = 0
        public var ignored = 0
        public var badSignature = 0
        public var malformed = 0
        public var publishFailures = 0
        public var optOuts = 0
    }

    public static let cloudPath = "/webhooks/whatsapp"
    public static let gatewayPath = "/webhooks/evolution"
    /// Bodies larger than this are refused (Meta's batches are far smaller).
    public static let maxBodyBytes = 4 << 20

    private let configuration: Configuration
    private let signature: WebhookSignature?
    private let publisher: any WebhookPublisher
    private let lookup: any ProviderMessageLookup
    private let recent: Mutex<RecentIDs>
    private let stats = Mutex(Counters())
    private let logger: Logger

    public init(
        configuration: Configuration, publisher: any WebhookPublisher,
        lookup: any ProviderMessageLookup = NoProviderMessageLookup(), logger: Logger = Logger(label: "broadcast.webhooks")
    ) {
        self.configuration = configuration
        signature = configuration.appSecret.map(WebhookSignature.init(appSecret:))
        self.publisher = publisher
        self.lookup = lookup
        recent = Mutex(RecentIDs(capacity: configuration.recentEventCapacity))
        self.logger = logger
    }

    public var counters: Counters { stats.withLock { $0 } }

    public func handle(_ request: WebhookRequest) async -> WebhookResponse {
        switch (request.method, request.path) {
        case ("GET", Self.cloudPath):
            return verify(request.query)
        case ("POST", Self.cloudPath):
            guard let signature, signature.isValid(header: request.headers["x-hub-signature-256"], body: request.body) else {
                stats.withLock { $0.badSignature += 1 }
                logger.warning("webhook refused: bad or missing signature", metadata: ["path": "\(request.path)"])
                return WebhookResponse(status: 401, body: "bad or missing X-Hub-Signature-256\n")
            }
            let payload: CloudAPIWebhook
            do {
                payload = try JSONDecoder().decode(CloudAPIWebhook.self, from: Data(request.body))
            } catch {
                return malformed("not a Cloud API webhook body: \(error)")
            }
            return await publish(payload.events(devices: configuration.devices, receiver: configuration.name, now: Date()))
        case ("POST", Self.gatewayPath):
            let given = request.headers["x-webhook-token"] ?? request.query["token"]
            guard let expected = configuration.gatewayToken, let given, Self.constantTimeEqual(given, expected) else {
                stats.withLock { $0.badSignature += 1 }
                logger.warning("webhook refused: bad or missing gateway token", metadata: ["path": "\(request.path)"])
                return WebhookResponse(status: 401, body: "bad or missing X-Webhook-Token\n")
            }
            let payload: EvolutionWebhook
            do {
                payload = try JSONDecoder().decode(EvolutionWebhook.self, from: Data(request.body))
            } catch {
                return malformed("not an Evolution API webhook body: \(error)")
            }
            return await publish(payload.events(devices: configuration.devices, receiver: configuration.name, now: Date(), lookup: lookup))
        case ("GET", "/healthz"):
            return WebhookResponse(status: 200, body: "ok\n")
        default:
            return WebhookResponse(status: 404, body: "not found: POST \(Self.cloudPath) (Cloud API) or \(Self.gatewayPath) (gateway)\n")
        }
    }

    /// Meta's subscription check: echo `hub.challenge` when mode and token match.
    private func verify(_ query: [String: String]) -> WebhookResponse {
        guard query["hub.mode"] == "subscribe", let expected = configuration.verifyToken,
              let token = query["hub.verify_token"], Self.constantTimeEqual(token, expected),
              let challenge = query["hub.challenge"]
        else {
            logger.warning("webhook verification refused: wrong mode or verify token")
            return WebhookResponse(status: 403, body: "verification refused\n")
        }
        return WebhookResponse(status: 200, body: challenge)
    }

    private func malformed(_ reason: String) -> WebhookResponse {
        stats.withLock { $0.malformed += 1 }
        let short = String(reason.prefix(300))
        logger.warning("webhook refused: malformed body", metadata: ["reason": "\(short)"])
        return WebhookResponse(status: 400, body: "malformed body: \(short)\n")
    }

    private func publish(_ translation: WebhookTranslation) async -> WebhookResponse {
        var translation = translation
        for case .inbound(let message) in translation.events where configuration.optOutKeywords.matches(message.text) {
            translation.events.append(.optOut(phone: message.phone, inboundId: message.id))
            logger.info("contact wrote an opt-out keyword", metadata: ["device": "\(message.deviceId)", "phone": "\(PhoneNumber.masked(message.phone))"])
        }
        // Drop what was already published (a provider's retry); keep one of each identity in the body.
        var seen: Set<String> = []
        let fresh = recent.withLock { recent in
            translation.events.filter { !recent.contains($0.identity) && seen.insert($0.identity).inserted }
        }
        let duplicates = translation.events.count - fresh.count
        stats.withLock {
            $0.accepted += 1
            $0.unmatched += translation.unmatched
            $0.ignored += translation.ignored
            $0.duplicates += duplicates
        }
        if translation.unmatched > 0 {
            logger.info("webhook members matched no message of ours", metadata: ["count": "\(translation.unmatched)"])
        }
        guard !fresh.isEmpty else { return WebhookResponse(status: 200, body: "ok\n") }
        let records = fresh.map { $0.record(topics: configuration.topics) }
        switch await publisher.publish(records) {
        case .success:
            // Remembered only once acknowledged: a failed publish must not turn the retry into a "duplicate".
            recent.withLock { recent in for event in fresh { recent.insert(event.identity) } }
            let optOuts = fresh.filter { if case .optOut = $0 { true } else { false } }.count
            stats.withLock { $0.published += fresh.count; $0.optOuts += optOuts }
            return WebhookResponse(status: 200, body: "ok\n")
        case .failure(let error):
            stats.withLock { $0.publishFailures += 1 }
            logger.error("webhook not published; the provider will retry", metadata: ["error": "\(error)", "events": "\(fresh.count)"])
            return WebhookResponse(status: 503, body: "not stored yet, retry later\n")
        }
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return difference == 0
    }
}
