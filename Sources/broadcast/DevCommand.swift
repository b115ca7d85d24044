import ArgumentParser
import DemoRun
import Foundation
import Logging

struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Everything in one process on the embedded cluster: a demo campaign and sequence, workers, live progress, a checked summary.",
        discussion: "Exits non-zero when a message was lost, sent twice, sent out of device order or closer than its minimum delay."
    )

    @Option(help: "Devices the demo campaign uses.") var devices = 50
    @Option(help: "Recipients of the demo campaign.") var messages = 2_000
    @Option(help: "Worker members in the consumer group.") var workers = 3
    @Option(help: "Minimum seconds between two sends of a device.") var minDelay = 0.5
    @Option(help: "Maximum seconds between two sends of a device.") var maxDelay = 1.5
    @Option(help: "Stop after this many seconds even if messages are left.") var duration = 120
    @Option(help: "Partitions per topic.") var partitions = 12
    @Flag(help: "Print the summary as one JSON object.") var json = false
    @Flag(help: "Do not start the web console.") var noConsole = false
    @Option(help: "Port of the web console (a free one when taken).") var consolePort = 8088
    @Option(help: "Keep the console up this many seconds after the run.") var consoleLinger = 0
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard devices >= 1, messages >= 1, workers >= 1, partitions >= 1 else {
            throw ValidationError("--devices, --messages, --workers and --partitions must be at least 1")
        }
        guard minDelay >= 0, minDelay <= maxDelay else { throw ValidationError("need 0 ≤ --min-delay ≤ --max-delay") }
    }

    func run() async throws {
        if logging.level == nil && ProcessInfo.processInfo.environment["BROADCAST_LOG_LEVEL"] == nil {
            LoggingOptions(level: "warning").bootstrap()
        } else {
            logging.bootstrap()
        }
        var demo = DevRun()
        demo.devices = devices
        demo.messages = messages
        demo.workers = workers
        demo.minDelay = minDelay
        demo.maxDelay = maxDelay
        demo.duration = .seconds(duration)
        demo.partitions = partitions
        demo.console?.port = consolePort
        if noConsole { demo.console = nil }
        demo.consoleLinger = .seconds(consoleLinger)
        let terminal = isatty(STDERR_FILENO) == 1
        // On a terminal the live board redraws in place; elsewhere a progress line per second.
        let redraw: @Sendable (String) -> Void = { text in
            FileHandle.standardError.write(Data(("\u{1B}[H\u{1B}[2J" + text + "\n").utf8))
        }
        let board = terminal ? redraw : nil
        let summary = try await demo.run(logger: Logger(label: "broadcast.dev"), progress: { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }, board: board)
        if json {
            try printJSON(summary)
        } else {
            print(summary.humanReadable)
        }
        if !summary.invariantsHeld { throw ExitCode(1) }
    }
}

extension LoggingOptions {
    init(level: String) {
        self.init()
        self.level = level
    }
}
