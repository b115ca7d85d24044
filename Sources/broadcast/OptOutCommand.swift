import ArgumentParser
import BroadcastModel
import DevicePolicies
import Foundation
import Kafka
import Logging

/// `broadcast optout add|remove PHONE`: writes to the opt-out topic that every worker follows.
struct OptOutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optout",
        abstract: "Opt a phone out of (or back into) every campaign and sequence, through the opt-out topic.",
        subcommands: [Add.self, Remove.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Never message this phone again (workers skip it with reason opt_out).")
        @OptionGroup var options: OptOutOptions

        func run() async throws {
            try await options.publish(optedOut: true)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lift an opt-out made through this topic (an opt-out file still applies).")
        @OptionGroup var options: OptOutOptions

        func run() async throws {
            try await options.publish(optedOut: false)
        }
    }
}

struct OptOutOptions: ParsableArguments {
    @OptionGroup var kafka: KafkaOptions
    @Argument(help: "The phone, E.164 (+60123456789) or local with --default-country.") var phone: String
    @Option(name: .customLong("default-country"), help: "Country code for local numbers, e.g. 60.") var defaultCountry: String?
    @Option(name: .customLong("timeout-seconds"), help: "How long to wait for Kafka to acknowledge.") var timeoutSeconds = 15
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard normalizedPhone != nil else {
            throw ValidationError("'\(PhoneNumber.masked(phone))' is not a phone number; give E.164 (+60123456789) or a local number with --default-country")
        }
        guard timeoutSeconds > 0 else { throw ValidationError("--timeout-seconds must be at least 1") }
    }

    var normalizedPhone: String? {
        PhoneNumber.normalize(phone, defaultCountryCode: defaultCountry)
    }

    func publish(optedOut: Bool) async throws {
        logging.bootstrap()
        guard let phone = normalizedPhone else { throw ValidationError("not a phone number") }
        let topic = kafka.topics.optOuts
        var configuration = ProducerConfiguration(client: try kafka.clientOptions(clientId: "broadcast-optout"))
        // An operator waits for the answer: fail in seconds, not after the default two minutes.
        configuration.deliveryTimeoutMilliseconds = timeoutSeconds * 1_000
        let producer = try KafkaProducer(configuration: configuration, logger: Logger(label: "broadcast.optout"))
        let result: DeliveryReport
        do {
            result = try await producer.send(OptOutRecord.record(topic: topic, phone: phone, optedOut: optedOut))
        } catch {
            await producer.close(flushTimeout: .seconds(1))
            throw ValidationError("could not write to \(topic): \(error) (does the topic exist? workers and this command do not create it)")
        }
        await producer.close()
        let verb = optedOut ? "opted out" : "opt-out lifted for"
        print("\(verb) \(PhoneNumber.masked(phone)) (\(topic) partition \(result.partition) offset \(result.offset))")
    }
}
