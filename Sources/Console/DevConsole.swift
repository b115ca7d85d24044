import BroadcastModel
import Foundation
import Kafka
import Logging

/// The console as `broadcast dev` runs it: on the embedded cluster, with one fresh operator
/// token (admin, so the demo shows full numbers) and an in-memory projection.
public struct DevConsole: Sendable {
    public var host = "127.0.0.1"
    /// Tried first; when taken, a free port is used instead.
    public var port = 8088
    public var token = ConsoleTokens.random()

    public init() {}

    public func start(bootstrapServers: String, topics: TopicNames, logger: Logger) async throws -> ConsoleService {
        let tokens = try ConsoleTokens([ConsoleToken(name: "dev-admin", role: .admin, token: token)])
        for port in [port, 0] {
            var configuration = ConsoleConfiguration(
                client: KafkaClientOptions(bootstrapServers: bootstrapServers, clientId: "broadcast-dev-console"), topics: topics,
                storePath: nil, tokens: tokens)
            configuration.host = host
            configuration.port = port
            let service = try ConsoleService(configuration: configuration, logger: logger)
            do {
                try await service.start()
                return service
            } catch {
                await service.stop()
                if port == 0 { throw error }
            }
        }
        throw ConsoleError.startFailed("no port")
    }

    /// What `broadcast dev` prints.
    public func banner(_ service: ConsoleService) -> String {
        "console at \(service.baseURL)/  token: \(token)  (curl -H 'Authorization: Bearer \(token)' \(service.baseURL)/api/v1/campaigns)"
    }
}
