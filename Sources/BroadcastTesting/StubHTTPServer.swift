import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A real HTTP/1.1 server on 127.0.0.1 (ephemeral port) that plays the Cloud API or the gateway.
/// It records every request and answers with whatever the test's responder returns.
public final class StubHTTPServer: Sendable {
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var headers: HTTPHeaders
        public var body: [UInt8]

        public func header(_ name: String) -> String? { headers.first(name: name) }

        /// The body as a JSON object (test helper: throws when it is not one).
        public func json() throws -> [String: Any] {
            guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
                throw StubError.notAJSONObject(String(decoding: body, as: UTF8.self))
            }
            return object
        }
    }

    public struct Response: Sendable {
        public var status: Int
        public var headers: [(String, String)] = []
        public var body: String
        /// Wait this long before answering (to trip client timeouts).
        public var delay: TimeAmount?

        public init(status: Int, headers: [(String, String)] = [], body: String, delay: TimeAmount? = nil) {
            self.status = status
            self.headers = headers
            self.body = body
            self.delay = delay
        }

        public static func json(_ status: Int, _ body: String, headers: [(String, String)] = [], delay: TimeAmount? = nil) -> Response {
            Response(status: status, headers: [("Content-Type", "application/json")] + headers, body: body, delay: delay)
        }
    }

    public enum StubError: Error { case notAJSONObject(String) }

    public typealias Responder = @Sendable (_ request: Request, _ index: Int) -> Response

    public let port: Int
    private let channel: any Channel
    private let state: State

    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public var requests: [Request] { state.requests.withLock { $0 } }

    private init(channel: any Channel, state: State) throws {
        guard let port = channel.localAddress?.port else { throw ChannelError.unknownLocalAddress }
        self.port = port
        self.channel = channel
        self.state = state
    }

    /// Starts a server whose `responder` gets each request and its 0-based position.
    public static func start(_ responder: @escaping Responder) async throws -> StubHTTPServer {
        let state = State(responder: responder)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return try StubHTTPServer(channel: channel, state: state)
    }

    public func stop() async {
        try? await channel.close()
    }

    /// Runs `body` with a started server and always stops it.
    public static func with<T>(_ responder: @escaping Responder, _ body: (StubHTTPServer) async throws -> T) async throws -> T {
        let server = try await start(responder)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    final class State: Sendable {
        let requests = Mutex<[Request]>([])
        let responder: Responder

        init(responder: @escaping Responder) {
            self.responder = responder
        }

        func answer(_ request: Request) -> Response {
            let index = requests.withLock { requests in
                requests.append(request)
                return requests.count - 1
            }
            return responder(request, index)
        }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let state: State
        private var head: HTTPRequestHead?
        private var body: [UInt8] = []

        init(state: State) {
            self.state = state
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = []
            case .body(var buffer):
                body += buffer.readBytes(length: buffer.readableBytes) ?? []
            case .end:
                guard let head else { return }
                let response = state.answer(Request(method: "\(head.method)", path: head.uri, headers: head.headers, body: body))
                let keepAlive = head.isKeepAlive
                if let delay = response.delay {
                    context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                        self.write(response, keepAlive: keepAlive, context: context)
                    }
                } else {
                    write(response, keepAlive: keepAlive, context: context)
                }
            }
        }

        private func write(_ response: Response, keepAlive: Bool, context: ChannelHandlerContext) {
            guard context.channel.isActive else { return }
            var headers = HTTPHeaders(response.headers)
            let bytes = Array(response.body.utf8)
            headers.replaceOrAdd(name: "Content-Length", value: String(bytes.count))
            let head = HTTPResponseHead(
                version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers
            )
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: bytes)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            if !keepAlive { context.close(promise: nil) }
        }
    }
}
