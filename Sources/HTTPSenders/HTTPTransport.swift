import Senders
import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// One pooled HTTP client shared by every sender of a worker: connections to the same host
/// (graph.facebook.com, the gateway) are reused across devices instead of one pool per device.
///
/// The transport knows nothing about WhatsApp: it posts bytes and hands back status, headers and
/// body, or a `TransportError` that says whether the failure was a timeout or a connection problem.
public final class HTTPTransport: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// Time allowed to open a TCP (and TLS) connection.
        public var connectTimeout: Duration = .seconds(10)
        /// Whole-request deadline: from asking for a connection to the last byte of the answer.
        public var requestTimeout: Duration = .seconds(30)
        /// Longest silence between two reads on an open connection.
        public var readTimeout: Duration = .seconds(30)
        /// Soft cap on concurrent HTTP/1 connections to one host. At least the worker's bound on
        /// sends in flight (`WorkerConfiguration.maxSendsInFlight`), so that no send waits for a
        /// pooled connection and times out there.
        public var maxConnectionsPerHost: Int = 64
        /// Idle pooled connections are closed after this long.
        public var idleTimeout: Duration = .seconds(60)
        /// Answers larger than this are cut off: provider answers are a few hundred bytes.
        public var maxResponseBytes: Int = 1 << 20

        public init() {}

        public init(connectTimeout: Duration, requestTimeout: Duration, readTimeout: Duration? = nil) {
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
            self.readTimeout = readTimeout ?? requestTimeout
        }
    }

    public struct Response: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: [UInt8]

        public func header(_ name: String) -> String? { headers.first(name: name) }
    }

    public let configuration: Configuration
    private let client: HTTPClient
    private let isShutDown = Atomic<Bool>(false)

    public init(configuration: Configuration = Configuration(), logger: Logger? = nil) {
        self.configuration = configuration
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.timeout = .init(
            connect: TimeAmount(configuration.connectTimeout),
            read: TimeAmount(configuration.readTimeout)
        )
        clientConfiguration.connectionPool = .init(
            idleTimeout: TimeAmount(configuration.idleTimeout),
            concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.maxConnectionsPerHost
        )
        // A redirected POST could send the message twice or to someone else: never follow.
        clientConfiguration.redirectConfiguration = .disallow
        clientConfiguration.decompression = .enabled(limit: .ratio(20))
        client = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: clientConfiguration,
            backgroundActivityLogger: logger ?? Logger(label: "broadcast.senders.http", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }

    /// POSTs a JSON body. Headers may carry secrets: they are never logged or put into errors.
    public func postJSON(url: String, headers: [(String, String)], body: [UInt8]) async throws(TransportError) -> Response {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        for (name, value) in headers {
            request.headers.add(name: name, value: value)
        }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: TimeAmount(configuration.requestTimeout))
            var buffer = try await response.body.collect(upTo: configuration.maxResponseBytes)
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            return Response(status: Int(response.status.code), headers: response.headers, body: bytes)
        } catch {
            throw TransportError(classifying: error)
        }
    }

    /// Closes pooled connections. Safe to call more than once; only the first call does anything.
    public func shutdown() async {
        guard !isShutDown.exchange(true, ordering: .acquiringAndReleasing) else { return }
        try? await client.shutdown()
    }
}

/// A request that got no HTTP answer.
public enum TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request was written but its answer did not come in time (read, write or whole-request
    /// deadline). The provider may or may not have the message.
    case timeout(String)
    /// Could not connect (refused, connect or TLS timeout, no pooled connection in time), or the
    /// connection broke before an answer: the request never reached the provider whole.
    case connection(String)
    /// The URL built from the devices file is not usable (a configuration problem).
    case invalidURL(String)
    /// The task was cancelled (shutdown).
    case cancelled
    case other(String)

    init(classifying error: any Error) {
        if let error = error as? HTTPClientError {
            let timeouts: [(HTTPClientError, String)] = [
                (.readTimeout, "read timeout"), (.writeTimeout, "write timeout"), (.deadlineExceeded, "request deadline exceeded"),
            ]
            let notConnected: [(HTTPClientError, String)] = [
                (.connectTimeout, "connect timeout"), (.tlsHandshakeTimeout, "TLS handshake timeout"),
                (.getConnectionFromPoolTimeout, "no pooled connection in time"),
            ]
            if let (_, detail) = timeouts.first(where: { $0.0 == error }) {
                self = .timeout(detail)
            } else if let (_, detail) = notConnected.first(where: { $0.0 == error }) {
                self = .connection(detail)
            } else if [.invalidURL, .emptyHost, .emptyScheme].contains(error) || error.description.contains("unsupportedScheme") {
                // `unsupportedScheme` carries the scheme, so it is matched by name.
                self = .invalidURL(error.description)
            } else if error == .cancelled || error == .requestStreamCancelled {
                self = .cancelled
            } else if error == .remoteConnectionClosed {
                self = .connection("connection closed by the server")
            } else {
                self = .connection(error.description)
            }
        } else if error is CancellationError {
            self = .cancelled
        } else if error is NIOTooManyBytesError {
            self = .other("answer larger than the configured limit")
        } else if let error = error as? ChannelError, case .connectTimeout = error {
            self = .connection("connect timeout")
        } else {
            // Connection refused, host unreachable, reset by peer (NIO's IOError / NIOConnectionError).
            self = .connection(String(describing: error))
        }
    }

    public var description: String {
        switch self {
        case .timeout(let detail): "timeout: \(detail)"
        case .connection(let detail): "connection failed: \(detail)"
        case .invalidURL(let detail): "invalid URL: \(detail)"
        case .cancelled: "cancelled"
        case .other(let detail): detail
        }
    }

    /// Every transport failure but a bad URL may go away on a retry; a bad URL is the device's
    /// configuration, so the device pauses until someone fixes it.
    var sendFailure: SendFailure {
        switch self {
        case .timeout: .outcomeUnknown(code: "timeout", message: description)
        case .connection: .retryable(code: "connection", message: description, retryAfterSeconds: nil)
        case .cancelled: .retryable(code: "cancelled", message: description, retryAfterSeconds: nil)
        case .other: .retryable(code: "transport", message: description, retryAfterSeconds: nil)
        case .invalidURL: .permanent(code: "invalid_url", message: description, pausesDevice: true)
        }
    }
}
