import BroadcastModel
import Foundation
import Hummingbird
import Kafka
import Logging
import NIOCore
import Operations
import ServiceLifecycle
import Synchronization

/// How `broadcast console` runs.
public struct ConsoleConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port (tests, `broadcast dev`).
    public var port = 8088
    public var client: KafkaClientOptions
    public var topics: TopicNames
    /// The SQLite projection (`broadcast status --store` keeps the same file); nil keeps it in memory.
    public var storePath: String?
    public var tokens: ConsoleTokens
    /// How long a rendered view is reused; zero renders every request.
    public var viewTTL: Duration = .milliseconds(500)
    /// How often pages poll for fresh numbers.
    public var refreshMilliseconds = 2_000

    public init(client: KafkaClientOptions, topics: TopicNames, storePath: String?, tokens: ConsoleTokens) {
        self.client = client
        self.topics = topics
        self.storePath = storePath
        self.tokens = tokens
    }
}

/// Why the console could not start.
public enum ConsoleError: Error, Sendable, CustomStringConvertible {
    case noTokens
    case startFailed(String)

    public var description: String {
        switch self {
        case .noTokens:
            "no access tokens configured: pass --tokens FILE or set BROADCAST_CONSOLE_TOKENS (the console allows no anonymous access)"
        case .startFailed(let reason):
            "the console could not start: \(reason)"
        }
    }
}

/// `broadcast console`: the projection follower and the HTTP server (pages and `/api/v1`).
public final class ConsoleService: Sendable {
    public let configuration: ConsoleConfiguration
    public let store: StatusProjectionStore
    public let follower: ProjectionFollower
    private let producer: KafkaProducer
    private let logger: Logger
    private let server = Mutex<(task: Task<Void, any Error>, group: ServiceGroup)?>(nil)
    private let boundPort = Mutex<Int?>(nil)

    public init(configuration: ConsoleConfiguration, logger: Logger = Logger(label: "broadcast.console")) throws {
        guard !configuration.tokens.isEmpty else { throw ConsoleError.noTokens }
        self.configuration = configuration
        self.logger = logger
        store = try StatusProjectionStore(path: configuration.storePath)
        follower = ProjectionFollower(store: store, client: configuration.client, topics: configuration.topics, logger: logger)
        producer = try KafkaProducer(configuration: ProducerConfiguration(client: configuration.client), logger: logger)
    }

    /// The address the server listens on, once `start` returned.
    public var baseURL: String { "http://\(configuration.host):\(boundPort.withLock { $0 } ?? configuration.port)" }
    public var port: Int? { boundPort.withLock { $0 } }

    /// Starts following the topics and serving; returns once the server listens.
    public func start() async throws {
        try await follower.start()
        let handlers = ConsoleHandlers(
            store: store, follower: follower, producer: producer, tokens: configuration.tokens, client: configuration.client,
            topics: configuration.topics, cache: ViewCache(ttl: configuration.viewTTL), refreshMilliseconds: configuration.refreshMilliseconds,
            logger: logger)
        let router = Router()
        handlers.register(on: router)
        let (listening, continuation) = AsyncStream<Int?>.makeStream()
        var serverLogger = logger
        // Hummingbird logs each request at debug; ours never carry tokens in URLs, and headers are not logged.
        serverLogger.logLevel = max(logger.logLevel, .info)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "broadcast-console"),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port)
                continuation.finish()
            },
            logger: serverLogger)
        // A group of our own, so `stop` can shut the server down gracefully (in-flight requests finish).
        let group = ServiceGroup(services: [app], logger: serverLogger)
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        server.withLock { $0 = (task, group) }
        var port: Int?
        for await value in listening {
            port = value
            break
        }
        guard let port else {
            let reason = await task.result
            throw ConsoleError.startFailed("could not listen on \(configuration.host):\(configuration.port) (\(reason))")
        }
        boundPort.withLock { $0 = port }
        logger.info("console listening", metadata: ["url": "\(baseURL)"])
    }

    /// Stops serving and following, and closes the producer and the store.
    public func stop() async {
        let running = server.withLock { running in
            defer { running = nil }
            return running
        }
        if let running {
            await running.group.triggerGracefulShutdown()
            _ = await running.task.result
        }
        await follower.stop()
        await producer.close()
        try? store.close()
    }
}
