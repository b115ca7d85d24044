import ArgumentParser
import BroadcastModel
import Foundation
import Kafka
import Logging
import Operations

struct DeviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device",
        abstract: "Pause, resume or retire a device on every worker, or show devices' safety state (compacted devices topic).",
        discussion: """
            Workers with --device-state follow the devices topic: a paused device holds its messages (re-checked \
            every 2 s), a retired one skips them with reason `device_retired`, resume lets it send again. A \
            cool-off after a ban-like provider error is not lifted by resume: it runs its course.
            """,
        subcommands: [Pause.self, Resume.self, Retire.self, Show.self]
    )

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Hold the device's messages until resumed.")
        @OptionGroup var common: DeviceDecisionOptions
        func run() async throws { try await common.publish(.paused) }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Let a paused or retired device send again.")
        @OptionGroup var common: DeviceDecisionOptions
        func run() async throws { try await common.publish(.active) }
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Never send from the device again: its messages are skipped.")
        @OptionGroup var common: DeviceDecisionOptions
        func run() async throws { try await common.publish(.retired) }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every device's state (or one device's) as workers see it.")
        @Argument(help: "Device id (default: every device).") var id: String?
        @Flag(help: "One JSON object per device instead of a table.") var json = false
        @OptionGroup var kafka: KafkaOptions
        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            logging.bootstrap()
            let snapshot = try await DeviceStates.read(client: try kafka.clientOptions(clientId: "broadcast-devices-show"), topics: kafka.topics)
            let now = Date()
            let ids = id.map { [$0] } ?? snapshot.devices.keys.sorted()
            if !json {
                print("device                          operator  sends/1h  first send             last send              paused until / parked")
            }
            for deviceId in ids {
                guard let record = snapshot.devices[deviceId] else {
                    if let reason = snapshot.unreadable[deviceId] { print("\(deviceId): unreadable: \(reason)") } else { print("\(deviceId): no state") }
                    continue
                }
                if json {
                    print(String(decoding: record.encoded(), as: UTF8.self))
                    continue
                }
                let paused = record.pause.flatMap { $0.until > now ? Timestamp.format($0.until) + " (\($0.reason))" : nil }
                let parked = record.parking.flatMap { parking in
                    parking.isParked ? "parked until \(Timestamp.format(parking.wakeAt)) (\(parking.reason), partition \(parking.partition) from offset \(parking.fromOffset))" : nil
                }
                let waits = [paused, parked].compactMap { $0 }
                let columns = [
                    deviceId.padding(toLength: 32, withPad: " ", startingAt: 0),
                    record.operatorStatus.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0),
                    String(record.sendsInLastHour(at: now)).padding(toLength: 10, withPad: " ", startingAt: 0),
                    (record.firstSendAt.map(Timestamp.format) ?? "-").padding(toLength: 23, withPad: " ", startingAt: 0),
                    (record.lastSendAt.map(Timestamp.format) ?? "-").padding(toLength: 23, withPad: " ", startingAt: 0),
                    waits.isEmpty ? "-" : waits.joined(separator: "; "),
                ]
                print(columns.joined())
            }
            for (key, reason) in snapshot.unreadable.sorted(by: { $0.key < $1.key }) where id == nil {
                print("\(key): unreadable (it sends nothing until a readable record arrives): \(reason)")
            }
        }
    }
}

struct DeviceDecisionOptions: ParsableArguments {
    @Argument(help: "Device id.") var id: String
    @Option(help: "Who decides, for the audit trail (default: $USER@host).") var by: String?
    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var logging: LoggingOptions

    func publish(_ status: DeviceStateRecord.OperatorStatus) async throws {
        logging.bootstrap()
        let logger = Logger(label: "broadcast.devices")
        let client = try kafka.clientOptions(clientId: "broadcast-devices-control")
        let producer = try KafkaProducer(configuration: ProducerConfiguration(client: client), logger: logger)
        let who = by ?? operatorName()
        do {
            let record = try await DeviceStates.decide(status, device: id, by: who, client: client, producer: producer, topics: kafka.topics)
            print("\(id): \(record.operatorStatus.rawValue) (by \(who)) published to \(kafka.topics.devices)")
        } catch {
            await producer.close()
            throw error
        }
        await producer.close()
    }
}
