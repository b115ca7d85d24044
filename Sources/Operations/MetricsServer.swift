import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus

/// What the metrics server answers.
public struct MetricsRoutes: Sendable {
    /// The body of `/metrics` (Prometheus text format).
    public var metrics: @Sendable () -> String
    /// `/readyz`: 200 when true, 503 otherwise. `/healthz` is 200 while the process serves at all.
    public var ready: @Sendable () -> Bool

    public init(metrics: @escaping @Sendable () -> String, ready: @escaping @Sendable () -> Bool = { true }) {
        self.metrics = metrics
        self.ready = ready
    }
}

/// A small HTTP/1 server (SwiftNIO) for `/metrics`, `/healthz` and `/readyz`.
public final class MetricsServer: Sendable {
    public let host: String
    /// The bound port (the real one when started with port 0).
    public let port: Int
    private let channel: any Channel

    private init(host: String, port: Int, channel: any Channel) {
        self.host = host
        self.port = port
        self.channel = channel
    }

    /// Starts serving on `host:port` (port 0 picks a free one).
    public static func start(
        host: String = "0.0.0.0", port: Int, routes: MetricsRoutes, logger: Logger = Logger(label: "broadcast.metrics")
    ) async throws(OperationsError) -> MetricsServer {
        guard (0...65_535).contains(port) else { throw .invalidArgument("metrics port \(port) is not between 0 and 65535") }
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(routes: routes))
                    }
                }
                .bind(host: host, port: port)
                .get()
            let bound = channel.localAddress?.port ?? port
            logger.info("metrics server listening", metadata: ["address": "\(host):\(bound)"])
            return MetricsServer(host: host, port: bound, channel: channel)
        } catch {
            throw .bind(host: host, port: port, underlying: "\(error)")
        }
    }

    /// The one call for a worker: `/metrics` from a Prometheus registry (the one behind the
    /// process's `PrometheusMetricsFactory`, which the worker's counters and the lag tracker
    /// write to as things happen), `/readyz` from `ready`.
    ///
    ///     let registry = PrometheusCollectorRegistry()
    ///     MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    ///     let metrics = try await MetricsServer.start(port: 9464, registry: registry, ready: { worker.isReady })
    public static func start(
        host: String = "0.0.0.0", port: Int, registry: PrometheusCollectorRegistry,
        ready: @escaping @Sendable () -> Bool = { true }, logger: Logger = Logger(label: "broadcast.metrics")
    ) async throws(OperationsError) -> MetricsServer {
        try await start(host: host, port: port, routes: MetricsRoutes(metrics: { registry.emitToString() }, ready: ready), logger: logger)
    }

    public func stop() async {
        try? await channel.close()
    }
}

/// Answers one request per round trip; keep-alive is honoured.
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: MetricsRoutes
    private var head: HTTPRequestHead?

    init(routes: MetricsRoutes) {
        self.routes = routes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let (status, contentType, body) = answer(head)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        }
        let promise = context.eventLoop.makePromise(of: Void.self)
        if !keepAlive {
            let channel = context.channel
            promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
    }

    private func answer(_ head: HTTPRequestHead) -> (HTTPResponseStatus, String, String) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        guard head.method == .GET || head.method == .HEAD else {
            return (.methodNotAllowed, "text/plain; charset=utf-8", "only GET\n")
        }
        switch path {
        case "/metrics":
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", routes.metrics())
        case "/healthz":
            return (.ok, "text/plain; charset=utf-8", "ok\n")
        case "/readyz":
            return routes.ready() ? (.ok, "text/plain; charset=utf-8", "ready\n")
                : (.serviceUnavailable, "text/plain; charset=utf-8", "not ready\n")
        default:
            return (.notFound, "text/plain; charset=utf-8", "not found: try /metrics, /healthz or /readyz\n")
        }
    }
}
