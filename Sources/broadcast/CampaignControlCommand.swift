import ArgumentParser
import Foundation
import Kafka
import Logging
import Operations

struct CampaignControlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign",
        abstract: "Pause, resume or cancel a campaign on every worker (compacted control topic).",
        discussion: """
            Workers running CampaignControlPolicy hold a paused campaign's messages (re-checked every 2 s) and \
            skip a cancelled campaign's messages with reason `cancelled`. A held message blocks later messages \
            of the same device (lanes are FIFO per device); other devices go on.
            """,
        subcommands: [Pause.self, Resume.self, Cancel.self]
    )

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Hold the campaign's messages until resumed.")
        @OptionGroup var common: ControlOptions
        func run() async throws { try await common.publish(.pause) }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Let a paused campaign send again.")
        @OptionGroup var common: ControlOptions
        func run() async throws { try await common.publish(.resume) }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Skip every message of the campaign not yet sent (cannot be undone by resume for skipped ones).")
        @OptionGroup var common: ControlOptions
        func run() async throws { try await common.publish(.cancel) }
    }
}

struct ControlOptions: ParsableArguments {
    @Argument(help: "Campaign id.") var id: String
    @Option(help: "Who asks, for the audit trail (default: $USER@host).") var by: String?
    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var logging: LoggingOptions

    func publish(_ action: CampaignAction) async throws {
        logging.bootstrap()
        let logger = Logger(label: "broadcast.control")
        let client = try kafka.clientOptions(clientId: "broadcast-control")
        try await CampaignControlPublisher.ensureTopic(client: client, topics: kafka.topics, logger: logger)
        let producer = try KafkaProducer(configuration: ProducerConfiguration(client: client), logger: logger)
        let who = by ?? operatorName()
        let record = CampaignControlRecord(campaignId: id, action: action, at: Date(), by: who)
        do {
            let report = try await CampaignControlPublisher.publish(record, producer: producer, topics: kafka.topics)
            print("\(action.rawValue) \(id): published to \(report.topic)[\(report.partition)]@\(report.offset)")
        } catch {
            await producer.close()
            throw error
        }
        await producer.close()
    }
}
