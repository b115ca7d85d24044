import Foundation

/// A device's anti-spam configuration. Defaults: UTC, English, no caps, no quiet hours, which
/// means the gate only applies opt-out and device health.
public struct DeviceSendPolicy: Sendable, Equatable {
    /// The device's clock: greetings, calendar days for caps, and quiet hours all use it.
    public var timeZone: TimeZone
    public var locale: String
    public var caps: SendCaps
    public var quietHours: QuietHours?
    /// Hard limits of the device's provider (Cloud API numbers); none for other senders.
    public var providerLimits: ProviderLimits

    public init(
        timeZone: TimeZone = DeviceSendPolicy.utc,
        locale: String = "en",
        caps: SendCaps = .unlimited,
        quietHours: QuietHours? = nil,
        providerLimits: ProviderLimits = ProviderLimits()
    ) {
        self.timeZone = timeZone
        self.locale = locale
        self.caps = caps
        self.quietHours = quietHours
        self.providerLimits = providerLimits
    }

    public static let utc = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? .current
}
