import ArgumentParser
import BroadcastModel
import Foundation
import Kafka
import Logging
import Sequences

/// `broadcast sequences …`: define drip sequences, enrol contacts, stop them, and run the scheduler.
struct SequencesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sequences",
        abstract: "Define sequences, enrol contacts, and run the scheduler that publishes due steps (SQLite store).",
        subcommands: [Define.self, Enroll.self, Stop.self, List.self, Run.self]
    )
}

extension SequencesCommand {
    struct StoreOptions: ParsableArguments {
        @Option(name: .customLong("store"), help: "SQLite file of sequences and enrolments (env BROADCAST_SEQUENCE_STORE; default broadcast-sequences.sqlite).")
        var path: String?

        var resolvedPath: String {
            path ?? ProcessInfo.processInfo.environment["BROADCAST_SEQUENCE_STORE"] ?? "broadcast-sequences.sqlite"
        }

        func open() throws -> SQLiteSequenceStore {
            do {
                return try SQLiteSequenceStore(path: resolvedPath)
            } catch {
                throw ValidationError("\(error)")
            }
        }
    }

    struct Define: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or update a sequence from a YAML or JSON file.")

        @Argument(help: "The sequence file (.yaml, .yml or .json).") var file: String
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let sequence: SequenceDefinition
            do {
                sequence = try SequenceFile.load(path: file)
            } catch {
                printError("\(file): cannot define the sequence")
                if error.issues.isEmpty { printError("  \(error)") }
                for issue in error.issues { printError("  \(issue)") }
                throw ExitCode.failure
            }
            let db = try store.open()
            let outcome = try await db.define(sequence, at: Date())
            switch outcome {
            case .created: print("created sequence \(sequence.id) (\(sequence.steps.count) steps)")
            case .updated(let previous): print("updated sequence \(sequence.id) (\(previous) → \(sequence.steps.count) steps; enrolments keep their step index)")
            }
            if let target = sequence.handOver, try await db.sequence(id: target) == nil {
                printError("note: hand-over sequence \(target) is not defined yet; contacts wait for it after the last step")
            }
        }
    }

    struct Enroll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enrol the contacts of a CSV file (phone, name, device; other columns become attributes).",
            discussion: "Good rows are enrolled; bad rows are listed with their line numbers and the exit code is 3. Contacts already enrolled in the sequence are skipped, so a file can be enrolled again safely.")

        @Option(help: "The sequence id.") var sequence: String
        @Option(help: "The contacts CSV file.") var contacts: String
        @Option(help: "Device id for rows without a device column value.") var device: String?
        @Option(name: .customLong("country-code"), help: "Country code for local numbers such as 012-345 6789 (e.g. 60).") var countryCode: String?
        @Flag(help: "Enrol nothing when any row is bad.") var strict = false
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let text: String
            do {
                text = try String(contentsOfFile: contacts, encoding: .utf8)
            } catch {
                throw ValidationError("cannot read \(contacts): \(error.localizedDescription)")
            }
            let result: ContactImport.Parsed
            do {
                result = try ContactImport(defaultDeviceId: device, defaultCountryCode: countryCode).parse(text)
            } catch {
                throw ValidationError("\(contacts): \(error)")
            }
            for problem in result.problems { printError("\(contacts):\(problem.line): \(problem.message)") }
            if strict && !result.problems.isEmpty {
                printError("\(result.problems.count) bad row(s); nothing enrolled (--strict)")
                throw ExitCode(3)
            }
            let outcome = try await store.open().enroll(result.contacts, in: sequence, at: Date())
            print("enrolled \(outcome.enrolled) contact(s) in \(sequence); \(outcome.alreadyEnrolled.count) already enrolled; \(result.problems.count) bad row(s)")
            if !result.problems.isEmpty { throw ExitCode(3) }
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End every active sequence of a contact (after a reply or an opt-out).")

        @Option(help: "The contact's phone number.") var phone: String
        @Option(name: .customLong("country-code"), help: "Country code for a local number (e.g. 60).") var countryCode: String?
        @Option(help: "Why, kept with the enrolment (e.g. reply, opt_out).") var reason = "reply"
        @OptionGroup var store: StoreOptions

        func run() async throws {
            guard let normalized = PhoneNumber.normalize(phone, defaultCountryCode: countryCode) else {
                throw ValidationError("--phone \(PhoneNumber.masked(phone)) is not a valid phone number (local numbers need --country-code)")
            }
            let stopped = try await store.open().stop(phone: normalized, reason: reason, at: Date())
            let masked = PhoneNumber.masked(normalized)
            if stopped.isEmpty {
                print("\(masked) has no active sequence")
            } else {
                print("stopped \(stopped.count) sequence(s) for \(masked): \(stopped.joined(separator: ", "))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List sequences with enrolment counts by state.")

        @Flag(help: "One JSON object per sequence.") var json = false
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let summaries = try await store.open().summaries()
            if json {
                for summary in summaries {
                    var object: [String: Any] = ["id": summary.id, "steps": summary.stepCount]
                    if let name = summary.name { object["name"] = name }
                    if let handOver = summary.handOver { object["handOver"] = handOver }
                    for state in EnrolmentState.allCases { object[state.rawValue] = summary.counts[state] ?? 0 }
                    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                    print(String(decoding: data, as: UTF8.self))
                }
                return
            }
            guard !summaries.isEmpty else {
                print("no sequences yet: define one with `broadcast sequences define FILE`")
                return
            }
            let header = ["SEQUENCE", "STEPS", "ACTIVE", "COMPLETED", "STOPPED", "HANDED_OVER", "HAND-OVER", "NAME"]
            let rows = summaries.map { s in
                [s.id, "\(s.stepCount)"] + EnrolmentState.allCases.map { "\(s.counts[$0] ?? 0)" } + [s.handOver ?? "-", s.name ?? ""]
            }
            let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
            for row in [header] + rows {
                let line = zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                print(line.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
            }
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish due sequence steps to Kafka every few seconds (or once) and advance enrolments.")

        @Flag(help: "Run one pass and exit.") var once = false
        @Option(help: "Seconds between passes.") var interval: Double = 5
        @OptionGroup var store: StoreOptions
        @OptionGroup var kafka: KafkaOptions
        @OptionGroup var logging: LoggingOptions

        func validate() throws {
            guard interval >= 0.1, interval <= 3600 else { throw ValidationError("--interval must be between 0.1 and 3600 seconds, got \(interval)") }
        }

        func run() async throws {
            logging.bootstrap()
            let logger = Logger(label: "broadcast.sequences")
            let db = try store.open()
            let producer = try KafkaProducer(
                configuration: ProducerConfiguration(client: try kafka.clientOptions(clientId: "broadcast-sequences")), logger: logger)
            let topics = SequenceTopics(messages: kafka.topics.messages, status: kafka.topics.status)
            let scheduler = SequenceScheduler(store: db, producer: producer, topics: topics, logger: logger)

            if once {
                let report: SequenceScheduler.PassReport
                do {
                    report = try await scheduler.runOnce()
                } catch {
                    await producer.close()
                    throw ValidationError("\(error)")
                }
                await producer.close()
                print("published \(report.published.count) step(s), \(report.failed.count) not acknowledged; advanced \(report.advanced), completed \(report.completed), handed over \(report.handedOver)")
                if !report.failed.isEmpty { throw ExitCode.failure }
                return
            }

            logger.info("sequence scheduler running", metadata: [
                "store": "\(store.resolvedPath)", "interval": "\(interval)s", "messages": "\(topics.messages)",
            ])
            // Contacts who write to a device leave their sequences (`broadcast webhooks` publishes what they wrote).
            var replyConsumer = ConsumerConfiguration(client: try kafka.clientOptions(clientId: "broadcast-sequences-replies"), groupId: ReplyFollower.defaultGroup)
            replyConsumer.client.properties["topic.metadata.refresh.interval.ms"] = replyConsumer.client.properties["topic.metadata.refresh.interval.ms"] ?? "5000"
            let replies = try ReplyFollower(consumer: replyConsumer, topic: kafka.topics.inbound, store: db, logger: logger)
            try replies.start()
            let interval = Duration.milliseconds(Int64(interval * 1000))
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await scheduler.run(interval: interval) }
                group.addTask {
                    let signal = await TerminationSignal.wait()
                    logger.info("stopping sequence scheduler", metadata: ["signal": "\(signal)"])
                }
                // Whichever ends first (a signal) stops the other; a pass in flight finishes its awaits first.
                _ = await group.next()
                group.cancelAll()
            }
            await replies.close()
            await producer.close()
        }
    }
}

private func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
