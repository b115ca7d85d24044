import ArgumentParser
import Foundation
import Kafka
import Logging
import Operations

/// Options shared by the report subcommands.
struct ReportOptions: ParsableArguments {
    @Option(help: "The projection store written by `broadcast status --store` (env BROADCAST_STATUS_STORE).") var store: String?
    @Option(help: "csv or json.") var format = "csv"
    @Option(help: "CSV only: recipients, devices, steps, or all (recipients, a blank line, then the summary).") var section = "all"
    @Flag(name: .customLong("full-phone"), help: "Show full phone numbers instead of masked ones.") var fullPhone = false
    @Flag(help: "Bring the store up to date from the status topic before reporting (needs Kafka).") var refresh = false

    var storePath: String {
        store ?? ProcessInfo.processInfo.environment["BROADCAST_STATUS_STORE"] ?? "broadcast-status.sqlite"
    }

    func validate() throws {
        guard ["csv", "json"].contains(format) else { throw ValidationError("--format must be csv or json") }
        guard RecipientReport.Section(rawValue: section) != nil else {
            throw ValidationError("--section must be one of \(RecipientReport.Section.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func report(kind: RecipientReport.Kind, id: String, kafka: KafkaOptions, logging: LoggingOptions) async throws {
        logging.bootstrap()
        let logger = Logger(label: "broadcast.report")
        if !refresh && !FileManager.default.fileExists(atPath: storePath) {
            throw ValidationError("no projection store at \(storePath): run `broadcast status --store \(storePath)` first, or pass --refresh")
        }
        let store = try StatusProjectionStore(path: storePath)
        if refresh {
            let stream = try await TopicStream(client: try kafka.clientOptions(clientId: "broadcast-report"), topic: kafka.topics.status, logger: logger)
            do {
                try await StatusProjector(store: store, stream: stream, logger: logger).catchUp()
            } catch {
                await stream.close()
                throw error
            }
            await stream.close()
        }
        let messages = kind == .campaign ? try await store.messages(campaignId: id) : try await store.messages(sequenceId: id)
        try store.close()
        if messages.isEmpty {
            logger.warning("no messages of this \(kind.rawValue) in the store", metadata: ["id": "\(id)", "store": "\(storePath)"])
        }
        let report = RecipientReport(kind: kind, id: id, messages: messages, fullPhone: fullPhone)
        if format == "json" {
            FileHandle.standardOutput.write(try report.jsonData())
            print()
        } else {
            print(report.csv(section: RecipientReport.Section(rawValue: section) ?? .all), terminator: "")
        }
    }
}

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Per-recipient reports from the status projection, with summaries per device and step.",
        subcommands: [Campaign.self, Sequence.self]
    )

    struct Campaign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One row per recipient of a campaign.")
        @Argument(help: "Campaign id.") var id: String
        @OptionGroup var options: ReportOptions
        @OptionGroup var kafka: KafkaOptions
        @OptionGroup var logging: LoggingOptions

        func run() async throws { try await options.report(kind: .campaign, id: id, kafka: kafka, logging: logging) }
    }

    struct Sequence: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One row per message of a sequence, summarised per step.")
        @Argument(help: "Sequence id.") var id: String
        @OptionGroup var options: ReportOptions
        @OptionGroup var kafka: KafkaOptions
        @OptionGroup var logging: LoggingOptions

        func run() async throws { try await options.report(kind: .sequence, id: id, kafka: kafka, logging: logging) }
    }
}
