import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The HTTP/1 server (SwiftNIO) in front of a ``WebhookReceiver``: collects each request's body,
/// hands it over whole, and writes the receiver's answer. Keep-alive and pipelined requests are
/// answered in order (NIO's server pipeline).
public final class WebhookServer: Sendable {
    public let host: String
    /// The bound port (the real one when started with port 0).
    public let port: Int
    private let channel: any Channel

    private init(host: String, port: Int, channel: any Channel) {
        self.host = host
        self.port = port
        self.channel = channel
    }

    public struct BindError: Error, CustomStringConvertible {
        public var address: String
        public var underlying: String
        public var description: String { "cannot listen on \(address): \(underlying)" }
    }

    public static func start(
        host: String, port: Int, receiver: WebhookReceiver, logger: Logger = Logger(label: "broadcast.webhooks")
    ) async throws(BindError) -> WebhookServer {
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(WebhookHTTPHandler(receiver: receiver))
                    }
                }
                .bind(host: host, port: port)
                .get()
            let bound = channel.localAddress?.port ?? port
            logger.info("webhook receiver listening", metadata: ["address": "\(host):\(bound)"])
            return WebhookServer(host: host, port: bound, channel: channel)
        } catch {
            throw BindError(address: "\(host):\(port)", underlying: "\(error)")
        }
    }

    public func stop() async {
        try? await channel.close()
    }
}

final class WebhookHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let receiver: WebhookReceiver
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var tooLarge = false

    init(receiver: WebhookReceiver) {
        self.receiver = receiver
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = context.channel.allocator.buffer(capacity: 0)
            tooLarge = false
        case .body(var chunk):
            guard !tooLarge else { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > WebhookReceiver.maxBodyBytes {
                tooLarge = true
                body = nil
            } else {
                body?.writeBuffer(&chunk)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            let bytes = body.map { Array($0.readableBytesView) } ?? []
            body = nil
            if tooLarge {
                write(WebhookResponse(status: 413, body: "body too large\n"), head: head, context: context)
                return
            }
            let request = WebhookRequest(
                method: head.method.rawValue, path: Self.path(head.uri), query: Self.query(head.uri),
                headers: Dictionary(head.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last }),
                body: bytes)
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let receiver = receiver
            let eventLoop = context.eventLoop
            Task {
                let response = await receiver.handle(request)
                eventLoop.execute {
                    let (handler, context) = bound.value
                    handler.write(response, head: head, context: context)
                }
            }
        }
    }

    private func write(_ response: WebhookResponse, head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(response.body.utf8.count))
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let status = HTTPResponseStatus(statusCode: response.status)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: response.body)))), promise: nil)
        let promise = context.eventLoop.makePromise(of: Void.self)
        if !keepAlive {
            let channel = context.channel
            promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
    }

    static func path(_ uri: String) -> String {
        uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
    }

    static func query(_ uri: String) -> [String: String] {
        guard let q = uri.split(separator: "?", maxSplits: 1).dropFirst().first else { return [:] }
        var result: [String: String] = [:]
        for pair in q.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            let raw = parts.count > 1 ? String(parts[1]).replacingOccurrences(of: "+", with: " ") : ""
            result[name] = raw.removingPercentEncoding ?? raw
        }
        return result
    }
}
