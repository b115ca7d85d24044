import ContactFiles
import ArgumentParser
import Benchmarks
import Foundation
import Kafka
import Logging
import Publishing

/// `broadcast publish …`: fan work out to Kafka. Wiring only; the work is in the Publishing module.
struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish work to the broadcast topics.",
        subcommands: [PublishCampaignCommand.self]
    )
}

struct PublishCampaignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign",
        abstract: "Validate a campaign file and publish one message (and a queued status) per recipient.",
        discussion: """
            The whole recipients file is checked first; every bad row is listed with its line number and \
            nothing is published unless --skip-invalid is given. Message ids are derived from the campaign id \
            and the phone number, so publishing the same campaign again yields the same ids.
            Exit status: 0 all acknowledged, 1 some records not acknowledged, 2 the campaign or its rows are invalid.
            """
    )

    @Argument(help: "The campaign file (YAML, or JSON when it ends in .json).")
    var file: String

    @Flag(help: "Publish the valid rows even when some rows are invalid (they are still listed).")
    var skipInvalid = false

    @Option(help: ArgumentHelp("Country calling code for local numbers starting with 0, e.g. 60.", valueName: "code"))
    var defaultCountry: String?

    @Option(help: ArgumentHelp("A file of phone numbers (one per line) that must not receive the campaign.", valueName: "file"))
    var optOut: String?

    @Option(help: ArgumentHelp("The account's templates (name, language, status, parameter counts): a template campaign must name an APPROVED one with the right parameters.", valueName: "file"))
    var templates: String?

    @Flag(help: "Validate and show the plan; publish nothing (needs no Kafka).")
    var dryRun = false

    @Flag(help: "Print the final report as JSON on standard output.")
    var json = false

    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "broadcast.publish")
        let plan: CampaignPlan
        do {
            let campaign = try CampaignLoader.load(path: file)
            campaign.warnings.forEach { printError("warning: \($0)") }
            if let templates, let template = campaign.content.template {
                let problems = try TemplatesFile.load(path: templates).problems(with: template)
                if !problems.isEmpty { throw CampaignFileError.invalidFields(problems) }
            }
            let optOutSet = try optOut.map { path throws(PhoneListError) in try OptOutSet.load(path: path, defaultCountryCode: defaultCountry) }
            plan = try CampaignPlanner.plan(campaign: campaign, optOut: optOutSet ?? OptOutSet(), defaultCountryCode: defaultCountry)
        } catch let error as CampaignFileError {
            printError(error.description)
            throw ExitCode(2)
        } catch let error as PhoneListError {
            printError(error.description)
            throw ExitCode(2)
        } catch let error as PublishError {
            printError(error.description)
            throw ExitCode(2)
        }

        let fileName = (plan.campaign.recipientsPath as NSString).lastPathComponent
        for issue in plan.issues { printError("\(fileName) line \(issue.line): \(issue.reason)") }
        let c = plan.counts
        printError("\(c.rows) rows: \(c.valid) valid, \(c.invalid) invalid, \(c.duplicates) duplicates dropped, \(c.optedOut) opted out; \(c.recipients) to publish on \(plan.campaign.devices.count) devices (\(c.pinned) pinned)")
        if dryRun {
            plan.perDevice.forEach { printError("  \($0.device): \($0.recipients)") }
            if !plan.canPublish(skipInvalid: skipInvalid) { throw ExitCode(2) }
            return
        }
        guard plan.canPublish(skipInvalid: skipInvalid) else {
            printError(PublishError.invalidRecipients(count: plan.issues.count).description)
            throw ExitCode(2)
        }

        let producer = try KafkaProducer(configuration: ProducerConfiguration(client: try kafka.clientOptions(clientId: "broadcast-publish")), logger: logger)
        let names = kafka.topics
        let publisher = CampaignPublisher(producer: producer, topics: PublishTopics(messages: names.messages, status: names.status), logger: logger)
        let progress = ProgressPrinter()
        let report: PublishReport
        do {
            report = try await publisher.publish(plan, skipInvalid: skipInvalid, progress: progress.update)
        } catch {
            await producer.close()
            printError(error.description)
            throw ExitCode(1)
        }
        await producer.close()
        printError(report.summary)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            FileHandle.standardOutput.write(try encoder.encode(report) + Data("\n".utf8))
        }
        if !report.succeeded { throw ExitCode(1) }
    }
}

/// `broadcast bench publish`: register under `BenchCommand`'s subcommands.
struct PublishBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish a generated campaign on an embedded cluster and compare with the binding's raw produce rate."
    )

    @Option(help: "Recipients in the generated campaign (two records each).") var recipients = 1_000_000
    @Option(help: "Partitions of each topic (the embedded cluster keeps ~5 MiB per partition).") var partitions = 128
    @Option(help: "Devices the recipients are spread over.") var devices = 20
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        let result = try await PublishBenchmark.run(
            recipients: recipients, partitions: partitions, devices: devices, logger: Logger(label: "broadcast.bench"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        FileHandle.standardOutput.write(try encoder.encode(result) + Data("\n".utf8))
    }
}

private func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
