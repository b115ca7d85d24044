import ArgumentParser
import BroadcastModel
import Foundation
import HTTPSenders
import Kafka
import Logging
import Webhooks

/// `broadcast webhooks`: the receiver Meta and gateways call. Receipts go to the status topic,
/// contacts' messages to the inbound topic; a POST is answered 200 only once Kafka has them.
struct WebhooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract: "Receive Cloud API and gateway webhooks: delivered/read/failed receipts and incoming messages.",
        discussion: """
        Secrets come from files or the environment, never the command line: the Meta app secret \
        (BROADCAST_WEBHOOK_APP_SECRET or --app-secret-file), the verify token typed into Meta's webhook \
        settings (BROADCAST_WEBHOOK_VERIFY_TOKEN or --verify-token-file) and the token gateways send in \
        X-Webhook-Token (BROADCAST_WEBHOOK_GATEWAY_TOKEN or --gateway-token-file). Routes: \
        GET/POST /webhooks/whatsapp, POST /webhooks/evolution, GET /healthz. See docs/webhooks.md.
        """
    )

    @OptionGroup var kafka: KafkaOptions
    @Option(help: "Address to listen on, host:port.") var listen = "0.0.0.0:8088"
    @Option(name: .customLong("devices"), help: "Devices file: maps Cloud API phone number ids and gateway instances to device ids.")
    var devicesPath: String?
    @Option(name: .customLong("app-secret-file"), help: "File holding the Meta app secret.") var appSecretFile: String?
    @Option(name: .customLong("verify-token-file"), help: "File holding the webhook verify token.") var verifyTokenFile: String?
    @Option(name: .customLong("gateway-token-file"), help: "File holding the gateway webhook token.") var gatewayTokenFile: String?
    @Option(name: .customLong("recent-events"), help: "Distinct events remembered to drop providers' redeliveries.")
    var recentEvents = 200_000
    @Option(name: .customLong("publish-timeout-seconds"), help: "How long a POST waits for Kafka before answering 503 (the provider retries).")
    var publishTimeoutSeconds = 10
    @Option(name: .customLong("opt-out-keyword"), help: "A whole message that opts the contact out (repeatable; replaces the built-in list: STOP, UNSUBSCRIBE, BERHENTI, BATAL, PARAR, …).")
    var optOutKeywords: [String] = []
    @Option(name: .customLong("sent-index"), help: "Gateway sends remembered to match their receipts by provider id.")
    var sentIndexCapacity = 1_000_000
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard WebhooksCommand.parseAddress(listen) != nil else { throw ValidationError("--listen must be host:port, e.g. 0.0.0.0:8088") }
        guard recentEvents >= 1 else { throw ValidationError("--recent-events must be at least 1") }
        guard publishTimeoutSeconds >= 1 else { throw ValidationError("--publish-timeout-seconds must be at least 1") }
    }

    static func parseAddress(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else { return nil }
        let host = String(text[..<colon])
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "broadcast.webhooks")
        let appSecret = try Secret.read(file: appSecretFile, env: "BROADCAST_WEBHOOK_APP_SECRET")
        let verifyToken = try Secret.read(file: verifyTokenFile, env: "BROADCAST_WEBHOOK_VERIFY_TOKEN")
        let gatewayToken = try Secret.read(file: gatewayTokenFile, env: "BROADCAST_WEBHOOK_GATEWAY_TOKEN")
        guard appSecret != nil || gatewayToken != nil else {
            throw StartupRefused("no secret to check webhooks with: set BROADCAST_WEBHOOK_APP_SECRET (Cloud API) or BROADCAST_WEBHOOK_GATEWAY_TOKEN (gateway), or pass the matching --…-file")
        }
        var devices = WebhookDevices()
        if let devicesPath {
            let file: DevicesFile
            do { file = try DevicesFile.load(path: devicesPath) } catch { throw StartupRefused("devices file refused: \(error)") }
            for device in file.devices {
                switch device.sender {
                case .whatsappCloud(let cloud): devices.cloudPhoneNumberIds[cloud.phoneNumberId] = device.id
                case .gateway(let gateway): devices.gatewayInstances[gateway.instance] = device.id
                case .simulated: break
                }
            }
        }
        var producerConfiguration = ProducerConfiguration(client: try kafka.clientOptions(clientId: "broadcast-webhooks"))
        // A webhook waits for Kafka: give up within the provider's patience and let it retry.
        producerConfiguration.deliveryTimeoutMilliseconds = publishTimeoutSeconds * 1_000
        producerConfiguration.lingerMilliseconds = 2
        let producer = try KafkaProducer(configuration: producerConfiguration, logger: logger)
        // Gateway receipts carry only the provider's id: learn it from the workers' `sent` events.
        let index = SentMessageIndex(capacity: sentIndexCapacity)
        var indexFollower: SentMessageIndexFollower?
        if gatewayToken != nil {
            indexFollower = try SentMessageIndexFollower(
                client: try kafka.clientOptions(clientId: "broadcast-webhooks-index"), topic: kafka.topics.status, index: index, logger: logger)
            indexFollower?.start()
        }
        let receiver = WebhookReceiver(
            configuration: .init(
                appSecret: appSecret, verifyToken: verifyToken, gatewayToken: gatewayToken, devices: devices,
                topics: kafka.topics, recentEventCapacity: recentEvents,
                optOutKeywords: optOutKeywords.isEmpty ? OptOutKeywords() : OptOutKeywords(optOutKeywords)),
            publisher: KafkaWebhookPublisher(producer: producer), lookup: index, logger: logger)
        guard let (host, port) = WebhooksCommand.parseAddress(listen) else { throw ValidationError("bad --listen") }
        let server: WebhookServer
        do {
            server = try await WebhookServer.start(host: host, port: port, receiver: receiver, logger: logger)
        } catch {
            await producer.close()
            throw StartupRefused(error.description)
        }
        print("webhooks listening on \(host):\(server.port)")
        let signal = await TerminationSignal.wait()
        logger.info("signal received; shutting down", metadata: ["signal": "\(signal)"])
        await server.stop()
        await indexFollower?.close()
        await producer.close()
        let c = receiver.counters
        logger.info("webhooks stopped", metadata: [
            "published": "\(c.published)", "duplicates": "\(c.duplicates)", "unmatched": "\(c.unmatched)",
            "badSignature": "\(c.badSignature)", "malformed": "\(c.malformed)", "publishFailures": "\(c.publishFailures)",
        ])
    }
}

/// A secret from a file (trailing newline dropped) or the environment; its value is never printed.
enum Secret {
    static func read(file: String?, env: String) throws -> String? {
        if let file {
            do {
                let text = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                guard !text.isEmpty else { throw StartupRefused("secret file \(file) is empty") }
                return text
            } catch let error as StartupRefused {
                throw error
            } catch {
                throw StartupRefused("cannot read secret file \(file): \((error as NSError).localizedDescription)")
            }
        }
        let value = ProcessInfo.processInfo.environment[env]?.trimmingCharacters(in: .whitespacesAndNewlines)
        return value?.isEmpty == false ? value : nil
    }
}
