import AntiSpam
import BroadcastModel
import DevicePolicies
import Foundation
import Senders
import WorkerRuntime

/// Fixed instants and devices for policy tests.
enum Fixture {
    static let kualaLumpur = TimeZone(identifier: "Asia/Kuala_Lumpur") ?? TimeZone(secondsFromGMT: 8 * 3_600) ?? .gmt

    /// An instant given as UTC text, e.g. "2025-03-10T14:00:00Z".
    static func at(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text) ?? Date(timeIntervalSince1970: 0)
    }

    /// "kl": Kuala Lumpur clock, Malay, quiet 21:00–08:00, at most 2 sends an hour.
    static func klProfile() throws -> DeviceProfile {
        DeviceProfile(sendPolicy: DeviceSendPolicy(
            timeZone: kualaLumpur, locale: "ms", caps: SendCaps(hourly: 2),
            quietHours: try QuietHours(from: "21:00", to: "08:00")
        ))
    }

    static func policy(
        optOuts: OptOutStore = OptOutStore(), coolOff: TimeInterval = 15 * 60
    ) throws -> AntiSpamPolicy {
        let profiles = DeviceProfiles(devices: ["kl": try klProfile()])
        return AntiSpamPolicy(
            configuration: .init(profiles: profiles, health: .init(baseCoolOff: coolOff)),
            optOuts: optOuts
        )
    }

    static func message(
        id: String = "m-1", device: String = "kl", phone: String = "+60123456789", name: String? = "aisha",
        text: String? = "Hi {name}, your code is {code}. {Thanks|Thank you|Cheers}!", greeting: Bool = false,
        variation: Bool = false, attributes: [String: String]? = ["code": "X42"]
    ) -> BroadcastMessage {
        BroadcastMessage(
            id: id, userId: "user-1", deviceId: device, source: .campaign, campaignId: "cmp-1",
            recipient: .init(phone: phone, name: name),
            content: .init(type: .text, text: text, greeting: greeting, variation: variation),
            delay: .init(minSeconds: 0, maxSeconds: 0),
            scheduledAt: Date(timeIntervalSince1970: 0), createdAt: Date(timeIntervalSince1970: 0), attributes: attributes
        )
    }

    static let banLike = SendFailure.permanent(code: "131048", message: "Spam rate limit hit", pausesDevice: true)
}

extension PolicyDecision {
    var outgoing: OutgoingMessage? {
        if case .send(let message) = self { return message }
        return nil
    }

    var holdReason: String? {
        if case .hold(_, let reason) = self { return reason }
        return nil
    }

    var holdUntil: Date? {
        if case .hold(let until, _) = self { return until }
        return nil
    }
}
