import ArgumentParser
import BroadcastModel
import Foundation
import Kafka
import Logging
import Operations

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Ops view of the status topic: counts per campaign, sequence step and device, with rates and ETAs.",
        discussion: """
            Counts messages, not events: the latest status of each message wins. Reads the status topic from the \
            beginning with a throw-away consumer group and never commits. Without --follow it prints the board once \
            it has read up to the topic's end; --json prints that snapshot as JSON. With --store the latest status \
            of every message is kept in SQLite for `broadcast report`, and a restart resumes where it stopped.
            """
    )

    @OptionGroup var kafka: KafkaOptions
    @Flag(help: "Keep reading and redraw the board every second (a terminal view).") var follow = false
    @Flag(help: "Print one snapshot as JSON once the topic is read to its end, then exit.") var json = false
    @Option(help: "Only this campaign.") var campaign: String?
    @Option(help: "Only this sequence.") var sequence: String?
    @Option(help: "Only this device.") var device: String?
    @Option(help: "Ignore events before this RFC 3339 time, e.g. 2026-11-28T08:00:00Z.") var since: String?
    @Option(help: "Keep a SQLite projection of the latest status per message at this path.") var store: String?
    @Option(name: .customLong("timeout-seconds"), help: "How long reading to the end of the topic may take.") var timeoutSeconds = 120
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if json && follow { throw ValidationError("--json prints one snapshot; drop --follow") }
        if let since, Timestamp.parse(since) == nil { throw ValidationError("--since '\(since)' is not an RFC 3339 time such as 2026-11-28T08:00:00Z") }
        guard timeoutSeconds > 0 else { throw ValidationError("--timeout-seconds must be positive") }
    }

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "broadcast.status")
        let client = try kafka.clientOptions(clientId: "broadcast-status")
        let filter = StatusBoard.Filter(campaignId: campaign, sequenceId: sequence, deviceId: device, since: since.flatMap(Timestamp.parse))
        let timeout = Duration.seconds(timeoutSeconds)
        var board = StatusBoard(filter: filter)
        let stream = try await TopicStream(client: client, topic: kafka.topics.status, logger: logger)

        do {
            if let store {
                let projection = try StatusProjectionStore(path: store)
                // Seed the board from what the store already holds; replayed events then change nothing.
                for message in try await projection.messages() { board.apply(message.entry) }
                let projector = StatusProjector(store: projection, stream: stream, logger: logger)
                try await projector.catchUp(timeout: timeout) { records in for record in records { board.apply(record.event) } }
                if follow {
                    try await followLive(board: &board, stream: stream) { apply in try await projector.follow(onRecords: apply) }
                }
                try projection.close()
            } else {
                try await StatusBoardLoader.catchUp(stream, board: &board, logger: logger, timeout: timeout)
                if follow {
                    try await followLive(board: &board, stream: stream) { apply in
                        try await stream.follow { batch in apply(StatusRecord.decode(batch, logger: logger)) }
                    }
                }
            }
        } catch {
            await stream.close()
            throw error
        }
        await stream.close()
        if !follow {
            try printSnapshot(board.snapshot(now: Date()))
            if !json { await printHeldDevices(client: client, logger: logger) }
        }
    }

    /// Devices an operator paused or retired, devices cooling off after a ban-like error, devices
    /// whose state cannot be read, and business budgets' use (from the devices topic; nothing when
    /// it is missing).
    private func printHeldDevices(client: KafkaClientOptions, logger: Logger) async {
        guard let snapshot = try? await DeviceStates.read(client: client, topics: kafka.topics, timeout: .seconds(timeoutSeconds), logger: logger)
        else { return }
        let now = Date()
        var lines: [String] = []
        for (id, record) in snapshot.devices.sorted(by: { $0.key < $1.key }) {
            if device.map({ $0 != id }) ?? false { continue }
            if let decision = record.operatorDecision, decision.status != .active {
                lines.append("  \(id): \(decision.status.rawValue) by \(decision.by) at \(Timestamp.format(decision.at))")
            }
            if let pause = record.pause, pause.until > now {
                lines.append("  \(id): cooling off until \(Timestamp.format(pause.until)) after \(pause.reason) (strike \(pause.strikes))")
            }
        }
        for (id, reason) in snapshot.unreadable.sorted(by: { $0.key < $1.key }) where device.map({ $0 == id }) ?? true {
            lines.append("  \(id): state unreadable, sends nothing until a readable record arrives (\(reason))")
        }
        if !lines.isEmpty {
            print("\nDevices held (broadcast device show for all):")
            print(lines.joined(separator: "\n"))
        }
        guard device == nil, !snapshot.budgets.isEmpty else { return }
        print("\nBusiness budgets (unique recipients in the last 24 h):")
        for (business, budget) in snapshot.budgets.sorted(by: { $0.key < $1.key }) {
            var ledger = budget.ledger
            let used = ledger.used(at: now)
            let opening = used >= budget.limit ? ledger.nextOpening(after: now).map { ", next slot at \(Timestamp.format($0))" } ?? "" : ""
            print("  \(business): \(used) of \(budget.limit)\(opening)")
        }
    }

    private func printSnapshot(_ snapshot: StatusSnapshot) throws {
        if json {
            FileHandle.standardOutput.write(try snapshot.jsonData())
            print()
        } else {
            print(StatusBoardRenderer.render(snapshot))
        }
    }

    /// Redraws the board every second while `read` delivers records, until SIGINT or SIGTERM
    /// closes the stream (which ends `read`).
    private func followLive(
        board: inout StatusBoard, stream: TopicStream, read: (([StatusRecord]) -> Void) async throws -> Void
    ) async throws {
        let stopper = Task {
            _ = await TerminationSignal.wait()
            await stream.close()
        }
        defer { stopper.cancel() }
        var lastDraw = ContinuousClock.now
        func draw(_ board: StatusBoard) {
            // Clear the screen and home the cursor: a live table, not a scrolling log.
            print("\u{1B}[2J\u{1B}[H" + StatusBoardRenderer.render(board.snapshot(now: Date())))
            lastDraw = .now
        }
        draw(board)
        try await read { records in
            for record in records { board.apply(record.event) }
            if ContinuousClock.now - lastDraw >= .seconds(1) { draw(board) }
        }
        draw(board)
    }
}
