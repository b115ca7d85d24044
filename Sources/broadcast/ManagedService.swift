import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// A long-running part with a start and a stop, as a swift-service-lifecycle `Service`: it starts,
/// waits for the group's graceful shutdown (or cancellation), then stops. The group stops services
/// in the reverse order it was given them, so list what others depend on first.
struct ManagedService: Service, CustomStringConvertible {
    let description: String
    let start: @Sendable () async throws -> Void
    let stop: @Sendable () async -> Void

    init(_ name: String, start: @escaping @Sendable () async throws -> Void = {}, stop: @escaping @Sendable () async -> Void) {
        description = name
        self.start = start
        self.stop = stop
    }

    func run() async throws {
        try await start()
        // Throws CancellationError when the group is cancelled rather than shut down: stop either way.
        try? await gracefulShutdown()
        await stop()
    }
}

extension ServiceGroupConfiguration {
    /// SIGTERM and SIGINT shut down gracefully; a second SIGINT (Ctrl-C) ends the process at once.
    static func gracefulOnSignals(_ services: [any Service], logger: Logger) -> ServiceGroupConfiguration {
        var configuration = ServiceGroupConfiguration(services: services, logger: logger)
        configuration.gracefulShutdownSignals = [.sigterm, .sigint]
        SecondInterrupt.exitsAtOnce(logger: logger)
        return configuration
    }
}

/// Counts SIGINTs beside the service group's own handler: the second one exits with 130.
enum SecondInterrupt {
    private static let watcher: Watcher = Watcher()

    static func exitsAtOnce(logger: Logger) { watcher.arm(logger: logger) }

    private final class Watcher: @unchecked Sendable {
        private let lock = NSLock()
        private var interrupts = 0
        private var source: (any DispatchSourceSignal)?

        func arm(logger: Logger) {
            lock.withLock {
                guard source == nil else { return }
                // The default action would end the process on the first Ctrl-C.
                signal(SIGINT, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "broadcast.second-interrupt"))
                source.setEventHandler { [self] in
                    guard lock.withLock({ interrupts += 1; return interrupts }) >= 2 else { return }
                    logger.warning("second interrupt: exiting without waiting for sends in flight")
                    exit(130)
                }
                source.resume()
                self.source = source
            }
        }
    }
}

/// One value handed from a service's start to its stop.
final class Slot<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)

    func set(_ newValue: Value) { value.withLock { $0 = newValue } }

    func take() -> Value? { value.withLock { current in defer { current = nil }; return current } }
}
