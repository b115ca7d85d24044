import Senders
import Logging

/// Gives the worker one `MessageSender` per device. Built once at start from the devices file:
/// every HTTP sender shares one pooled `HTTPTransport`; devices not in the file get the default.
///
/// ```swift
/// let devices = try DevicesFile.load(path: "devices.yaml")
/// let senders = SenderRegistry(devices: devices, simulated: .init())
/// let receipt = try await senders.sender(for: record.deviceId).send(outgoing)
/// …
/// await senders.shutdown()
/// ```
public final class SenderRegistry: Sendable {
    public let devices: DevicesFile
    public let transport: HTTPTransport
    private let senders: [String: any MessageSender]
    private let fallback: any MessageSender

    /// - Parameters:
    ///   - devices: the validated devices file (an empty `DevicesFile()` when there is none).
    ///   - defaultSender: what devices missing from the file use. Only `.simulated` makes sense
    ///     without per-device settings, so that is the default; passing another kind means "only
    ///     devices listed in the file may send", and unknown devices get a sender that refuses.
    ///   - simulated: the configuration every simulated device shares (latency, failure rates).
    ///   - transport: the shared HTTP client configuration (timeouts, pool).
    public init(
        devices: DevicesFile,
        defaultSender: SenderKind? = nil,
        simulated: SimulatedSender.Configuration = SimulatedSender.Configuration(),
        transport: HTTPTransport.Configuration = HTTPTransport.Configuration(),
        logger: Logger? = nil
    ) {
        self.devices = devices
        let transport = HTTPTransport(configuration: transport, logger: logger)
        self.transport = transport
        let simulatedSender = SimulatedSender(configuration: simulated)
        var senders: [String: any MessageSender] = [:]
        for device in devices.devices {
            senders[device.id] = Self.makeSender(device.sender, simulated: simulatedSender, transport: transport)
        }
        self.senders = senders
        switch defaultSender ?? devices.defaults.sender {
        case .simulated: fallback = simulatedSender
        case .whatsappCloud, .gateway: fallback = UnconfiguredDeviceSender()
        }
    }

    /// The sender for a device; devices not in the devices file get the default sender.
    public func sender(for deviceId: String) -> any MessageSender {
        senders[deviceId] ?? fallback
    }

    /// The device's configuration, when the devices file lists it (caps, quiet hours, time zone, locale).
    public func configuration(for deviceId: String) -> DeviceConfiguration? {
        devices.device(deviceId)
    }

    /// Shuts every sender down, then the shared HTTP client. Call once, after sends in flight finished.
    public func shutdown() async {
        for sender in senders.values {
            await sender.shutdown()
        }
        await fallback.shutdown()
        await transport.shutdown()
    }

    static func makeSender(
        _ settings: SenderSettings, simulated: SimulatedSender, transport: HTTPTransport
    ) -> any MessageSender {
        switch settings {
        // One simulated sender per device: its attempt counter (and so its draws) stays per device.
        case .simulated: SimulatedSender(configuration: simulated.configuration)
        case .whatsappCloud(let configuration): CloudAPISender(configuration: configuration, transport: transport)
        case .gateway(let configuration): GatewaySender(configuration: configuration, transport: transport)
        }
    }
}

/// For a device the devices file does not list while the default sender needs per-device settings
/// (a phone number id, a gateway instance): pausing the device tells the operator to add it.
struct UnconfiguredDeviceSender: MessageSender {
    func send(_ message: OutgoingMessage) async throws(SendFailure) -> SendReceipt {
        throw .permanent(
            code: "device_not_configured",
            message: "device \(message.deviceId) is not in the devices file, and the default sender needs per-device settings",
            pausesDevice: true
        )
    }
}
