import Senders
import Foundation

/// Which kind of sender a device uses; the spelling is the devices file's `sender:` value.
public enum SenderKind: String, Sendable, Equatable, CaseIterable {
    case simulated
    case whatsappCloud = "whatsapp-cloud"
    case gateway
}

/// A device's sender with everything it needs; secrets are already resolved from env or file.
public enum SenderSettings: Sendable, Equatable {
    case simulated
    case whatsappCloud(CloudAPISender.Configuration)
    case gateway(GatewaySender.Configuration)

    public var kind: SenderKind {
        switch self {
        case .simulated: .simulated
        case .whatsappCloud: .whatsappCloud
        case .gateway: .gateway
        }
    }
}

/// Per-device caps as written in the devices file. Plain values: the worker maps them to
/// `AntiSpam.SendCaps` (`SendCaps(hourly:daily:warmup: Warmup(start:growth:))`).
public struct DeviceCaps: Sendable, Equatable {
    public struct Warmup: Sendable, Equatable {
        /// Messages allowed on the device's first day (≥ 1).
        public var start: Int
        /// Daily growth factor (≥ 1, e.g. 1.5 for +50 % a day).
        public var growth: Double

        public init(start: Int, growth: Double) {
            self.start = start
            self.growth = growth
        }
    }

    /// nil means no cap of that kind.
    public var hourly: Int?
    public var daily: Int?
    public var warmup: Warmup?

    public init(hourly: Int? = nil, daily: Int? = nil, warmup: Warmup? = nil) {
        self.hourly = hourly
        self.daily = daily
        self.warmup = warmup
    }
}

/// A wall-clock time "HH:mm" (24-hour), 00:00–23:59.
public struct DeviceClockTime: Sendable, Equatable, CustomStringConvertible {
    public var hour: Int
    public var minute: Int

    /// Accepts "21:00", "08:00" and "8:00"; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
              let hour = Int(parts[0]), let minute = Int(parts[1]),
              (0..<24).contains(hour), (0..<60).contains(minute)
        else { return nil }
        self.hour = hour
        self.minute = minute
    }

    /// Normalised "HH:mm", e.g. "08:00".
    public var description: String {
        (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)"
    }
}

/// Hours in which the device must not send, on its local clock; `to` ≤ `from` wraps past midnight.
/// The worker maps it with `try AntiSpam.QuietHours(from: q.from.description, to: q.to.description)`.
public struct DeviceQuietHours: Sendable, Equatable {
    public var from: DeviceClockTime
    public var to: DeviceClockTime

    public init(from: DeviceClockTime, to: DeviceClockTime) {
        self.from = from
        self.to = to
    }
}

/// One device of the devices file, validated.
public struct DeviceConfiguration: Sendable, Equatable {
    public var id: String
    public var sender: SenderSettings
    /// A valid IANA time zone (quiet hours, daily caps and greetings use the device's clock).
    public var timeZone: TimeZone
    /// Language code for greetings ("en", "ms", "pt-BR"…); AntiSpam's `MessageLocale(code:)` maps it.
    public var locale: String
    public var caps: DeviceCaps?
    public var quietHours: DeviceQuietHours?
    /// The WhatsApp Business Account (of the file's `businesses`) whose recipient budget this
    /// Cloud API number shares; nil for none.
    public var business: String?

    public init(
        id: String, sender: SenderSettings, timeZone: TimeZone = .gmt, locale: String = "en",
        caps: DeviceCaps? = nil, quietHours: DeviceQuietHours? = nil, business: String? = nil
    ) {
        self.id = id
        self.sender = sender
        self.timeZone = timeZone
        self.locale = locale
        self.caps = caps
        self.quietHours = quietHours
        self.business = business
    }
}

/// A WhatsApp Business Account of the devices file: Meta's messaging limit is a budget of unique
/// recipients per rolling 24 hours that all its numbers share (tiers 250, 2,000, 10,000, 100,000
/// or unlimited).
public struct BusinessAccount: Sendable, Equatable {
    public static let tiers = [250, 2_000, 10_000, 100_000]

    public var id: String
    /// Unique recipients per 24 hours; nil when unlimited.
    public var uniqueRecipientsPerDay: Int?

    public init(id: String, uniqueRecipientsPerDay: Int?) {
        self.id = id
        self.uniqueRecipientsPerDay = uniqueRecipientsPerDay
    }
}

// Secrets must not leak through `print`, `dump`, string interpolation or test failure output.

extension CloudAPISender.Configuration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "CloudAPISender.Configuration(baseURL: \(baseURL), apiVersion: \(apiVersion), phoneNumberId: \(phoneNumberId), accessToken: \(Redaction.secret(accessToken)))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: [
            "baseURL": baseURL, "apiVersion": apiVersion, "phoneNumberId": phoneNumberId,
            "accessToken": Redaction.secret(accessToken),
        ])
    }
}

extension GatewaySender.Configuration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "GatewaySender.Configuration(baseURL: \(baseURL), instance: \(instance), apiKey: \(Redaction.secret(apiKey)))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: [
            "baseURL": baseURL, "instance": instance, "apiKey": Redaction.secret(apiKey),
            "defaultTypingDelayMilliseconds": defaultTypingDelayMilliseconds,
        ])
    }
}
