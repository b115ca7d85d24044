import ArgumentParser
import Console
import Foundation
import Logging

struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "The operators' web console and HTTP API (/api/v1), over the status projection.",
        discussion: """
            Follows broadcast.status, broadcast.dlq and broadcast.control into the SQLite projection (the file \
            `broadcast status --store` keeps) and serves pages and JSON on --host:--port. Every data route needs a \
            bearer token: --tokens FILE (YAML: tokens: [{name, role, token, userId?}]) and/or \
            BROADCAST_CONSOLE_TOKENS=role[@userId]:token,… Roles: viewer (read), operator (also control, replay, \
            enqueue), admin (also full phone numbers). See docs/console.md.
            """
    )

    @OptionGroup var kafka: KafkaOptions
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 8088
    @Option(help: "The SQLite projection file (shared with `broadcast status --store` and `broadcast report`).")
    var store = "broadcast-projection.sqlite"
    @Option(help: "Token file (YAML or JSON).") var tokens: String?
    @Option(name: .customLong("refresh-ms"), help: "How often pages poll for fresh numbers.") var refreshMilliseconds = 2_000
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "broadcast.console")
        let tokenSet: ConsoleTokens
        do {
            tokenSet = try ConsoleTokens.load(file: tokens, environment: ProcessInfo.processInfo.environment["BROADCAST_CONSOLE_TOKENS"])
        } catch {
            throw ValidationError(error.description)
        }
        var configuration = ConsoleConfiguration(
            client: try kafka.clientOptions(clientId: "broadcast-console"), topics: kafka.topics, storePath: store, tokens: tokenSet)
        configuration.host = host
        configuration.port = port
        configuration.refreshMilliseconds = refreshMilliseconds
        let service = try ConsoleService(configuration: configuration, logger: logger)
        try await service.start()
        FileHandle.standardError.write(Data("console at \(service.baseURL) (\(tokenSet.tokens.count) token(s)); projection \(store)\n".utf8))
        _ = await TerminationSignal.wait()
        await service.stop()
    }
}
