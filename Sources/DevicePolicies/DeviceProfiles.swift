import AntiSpam
import Foundation
import HTTPSenders

/// What the policy needs to know about one device: its anti-spam settings and its typing delay.
public struct DeviceProfile: Sendable, Equatable {
    public var sendPolicy: DeviceSendPolicy
    /// "typing…" time a gateway shows before sending; nil when the device's sender has none.
    public var typingDelayMilliseconds: Int?

    public init(sendPolicy: DeviceSendPolicy = DeviceSendPolicy(), typingDelayMilliseconds: Int? = nil) {
        self.sendPolicy = sendPolicy
        self.typingDelayMilliseconds = typingDelayMilliseconds
    }
}

/// A device setting that AntiSpam refuses (the devices file parser checks syntax; this checks meaning).
public struct DeviceProfileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// nil for the file's `defaults`.
    public var deviceId: String?
    /// Dotted field path, as in the devices file ("caps.hourly", "quietHours").
    public var field: String
    public var problem: String

    public init(deviceId: String?, field: String, problem: String) {
        self.deviceId = deviceId
        self.field = field
        self.problem = problem
    }

    public var description: String {
        let place = deviceId.map { "device '\($0)'" } ?? "defaults"
        return "\(place), field '\(field)': \(problem)"
    }
}

/// Every device's profile, built once at start from the devices file so that a bad value stops the
/// worker before it sends anything. Devices the file does not list get the file's defaults.
public struct DeviceProfiles: Sendable, Equatable {
    public var fallback: DeviceProfile
    public var devices: [String: DeviceProfile]

    /// No devices file: UTC, English, no caps, no quiet hours for everyone.
    public init(fallback: DeviceProfile = DeviceProfile(), devices: [String: DeviceProfile] = [:]) {
        self.fallback = fallback
        self.devices = devices
    }

    public init(devicesFile file: DevicesFile) throws(DeviceProfileError) {
        let defaults = file.defaults
        fallback = DeviceProfile(sendPolicy: try Self.sendPolicy(
            deviceId: nil, timeZone: defaults.timeZone, locale: defaults.locale, caps: defaults.caps, quietHours: defaults.quietHours
        ))
        var devices: [String: DeviceProfile] = [:]
        for device in file.devices {
            devices[device.id] = try Self.profile(device)
        }
        self.devices = devices
    }

    public func profile(for deviceId: String) -> DeviceProfile {
        devices[deviceId] ?? fallback
    }

    public static func profile(_ device: DeviceConfiguration) throws(DeviceProfileError) -> DeviceProfile {
        let policy = try sendPolicy(
            deviceId: device.id, timeZone: device.timeZone, locale: device.locale, caps: device.caps, quietHours: device.quietHours
        )
        var policyWithLimits = policy
        var typing: Int?
        switch device.sender {
        case .gateway(let gateway) where gateway.defaultTypingDelayMilliseconds > 0:
            typing = gateway.defaultTypingDelayMilliseconds
        case .whatsappCloud(let cloud):
            policyWithLimits.providerLimits = ProviderLimits(
                messagesPerSecond: cloud.messagesPerSecond, samePhoneGap: cloud.samePhoneGapSeconds > 0 ? cloud.samePhoneGapSeconds : nil)
        default:
            break
        }
        return DeviceProfile(sendPolicy: policyWithLimits, typingDelayMilliseconds: typing)
    }

    static func sendPolicy(
        deviceId: String?, timeZone: TimeZone, locale: String, caps: DeviceCaps?, quietHours: DeviceQuietHours?
    ) throws(DeviceProfileError) -> DeviceSendPolicy {
        let sendCaps = caps.map {
            SendCaps(hourly: $0.hourly, daily: $0.daily, warmup: $0.warmup.map { Warmup(start: $0.start, growth: $0.growth) })
        } ?? .unlimited
        do {
            try sendCaps.validate()
        } catch {
            throw DeviceProfileError(deviceId: deviceId, field: capsField(error), problem: error.description)
        }
        var window: QuietHours?
        if let quietHours {
            do {
                window = try QuietHours(from: quietHours.from.description, to: quietHours.to.description)
            } catch {
                throw DeviceProfileError(deviceId: deviceId, field: "quietHours", problem: error.description)
            }
        }
        return DeviceSendPolicy(timeZone: timeZone, locale: locale, caps: sendCaps, quietHours: window)
    }

    private static func capsField(_ error: SendPolicyError) -> String {
        switch error {
        case .capNotPositive(let name, _): "caps.\(name)"
        case .warmupStartNotPositive: "caps.warmup.start"
        case .warmupGrowthInvalid: "caps.warmup.growth"
        }
    }
}
