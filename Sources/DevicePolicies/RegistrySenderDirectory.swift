import HTTPSenders
import Senders
import WorkerRuntime

/// The devices file's senders, as the worker sees them.
public struct RegistrySenderDirectory: SenderDirectory {
    public let registry: SenderRegistry

    public init(_ registry: SenderRegistry) {
        self.registry = registry
    }

    public func sender(for deviceId: String) -> any MessageSender {
        registry.sender(for: deviceId)
    }

    public func shutdown() async {
        await registry.shutdown()
    }
}
