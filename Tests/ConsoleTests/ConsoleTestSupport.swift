import AsyncHTTPClient
import BroadcastModel
import BroadcastTesting
import Console
import Foundation
import Kafka
import NIOCore
import NIOHTTP1
import Operations

/// Tokens every console test uses.
enum TestTokens {
    static let admin = "admin-token-0123456789abcdef"
    static let `operator` = "operator-token-0123456789abcdef"
    static let viewer = "viewer-token-0123456789abcdef"
    static let userAOperator = "user-a-operator-0123456789abcdef"
    static let userBViewer = "user-b-viewer-0123456789abcdef"

    static func all() throws -> ConsoleTokens {
        try ConsoleTokens([
            ConsoleToken(name: "admin", role: .admin, token: admin),
            ConsoleToken(name: "ops", role: .operator, token: `operator`),
            ConsoleToken(name: "watcher", role: .viewer, token: viewer),
            ConsoleToken(name: "a-ops", role: .operator, userId: "user-a", token: userAOperator),
            ConsoleToken(name: "b-view", role: .viewer, userId: "user-b", token: userBViewer),
        ])
    }
}

/// An embedded cluster with the broadcast topics, and a console on 127.0.0.1 following it.
final class ConsoleHarness: Sendable {
    let cluster: ClusterHarness
    let console: ConsoleService
    let http: HTTPClient

    init(partitions: Int = 3, refreshMilliseconds: Int = 2_000) async throws {
        cluster = try ClusterHarness(partitions: partitions)
        var configuration = ConsoleConfiguration(
            client: KafkaClientOptions(bootstrapServers: cluster.bootstrap, properties: ["reconnect.backoff.max.ms": "1000"]),
            topics: cluster.topics, storePath: nil, tokens: try TestTokens.all())
        configuration.port = 0
        configuration.viewTTL = .zero
        configuration.refreshMilliseconds = refreshMilliseconds
        console = try ConsoleService(configuration: configuration)
        try await console.start()
        http = HTTPClient(eventLoopGroupProvider: .singleton)
    }

    var baseURL: String { console.baseURL }

    struct Answer: Sendable {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]

        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        func json() throws -> [String: Any] {
            guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
                throw HarnessError("not a JSON object: \(text.prefix(300))")
            }
            return object
        }
    }

    func get(_ path: String, token: String?) async throws -> Answer {
        try await send(path, method: .GET, token: token, body: nil)
    }

    func post(_ path: String, token: String?, json: Any? = nil, raw: [UInt8]? = nil) async throws -> Answer {
        let body = try raw ?? json.map { Array(try JSONSerialization.data(withJSONObject: $0)) } ?? []
        return try await send(path, method: .POST, token: token, body: body)
    }

    func send(_ path: String, method: HTTPMethod, token: String?, body: [UInt8]?) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await http.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 64 * 1024 * 1024)
        return Answer(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: Array(bytes.readableBytesView))
    }

    /// Publishes status events keyed by message id, as workers do.
    func publish(_ events: [StatusEvent]) async throws {
        let records = events.map {
            ProducerRecord(topic: cluster.topics.status, key: Array($0.messageId.utf8), value: $0.encoded(), headers: [KafkaHeader(RecordSchema.statusHeader)])
        }
        for result in try await cluster.producer.send(records) { _ = try result.get() }
    }

    func close() async {
        try? await http.shutdown()
        await console.stop()
        await cluster.producer.close()
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Waits until `condition` holds or the timeout passes; returns whether it held.
func eventually(timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return try await condition()
}

/// A message life: queued, processing, then a final status.
func life(
    _ id: String, user: String, campaign: String?, device: String, final: MessageStatus?, at second: Double, sequence: (String, String)? = nil
) -> [StatusEvent] {
    let base = Date(timeIntervalSince1970: 1_800_000_000).addingTimeInterval(second)
    func event(_ status: MessageStatus, _ offset: Double, reason: String? = nil) -> StatusEvent {
        StatusEvent(
            messageId: id, userId: user, deviceId: device, campaignId: campaign, sequenceId: sequence?.0, sequenceStepId: sequence?.1,
            recipientPhone: "+60123456\(String(format: "%03d", id.unicodeScalars.reduce(0) { $0 + Int($1.value) } % 1000))", status: status, reason: reason,
            attempt: status == .queued ? 0 : 1, at: base.addingTimeInterval(offset))
    }
    var events = [event(.queued, 0)]
    guard let final else { return events }
    events.append(event(.processing, 1))
    if final != .processing { events.append(event(final, 2, reason: final == .skipped ? StatusEvent.Reason.optOut : nil)) }
    return events
}

func counts(_ object: Any?) -> [String: Int] {
    (object as? [String: Any] ?? [:]).compactMapValues { $0 as? Int }
}

/// The repository root (for docs/openapi.yaml and .ci scripts).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
