import BroadcastModel
import Foundation

/// Reads a campaign file (YAML, or JSON when the name ends in `.json`) and checks every field,
/// reporting all problems at once.
///
/// ```yaml
/// id: spring-sale-2026
/// userId: user-42
/// name: Spring sale
/// message: { type: text, text: "{Hi|Hello} {name}, ...", greeting: true }
/// recipients: recipients.csv          # relative to this file
/// devices: [dev-a, dev-b]
/// delay: { min: 8, max: 20 }          # seconds between two sends of a device
/// scheduledAt: 2026-12-01T09:00:00+08:00
/// expiresAt: 2026-12-02T21:00:00+08:00  # optional
/// reroute: { afterMinutes: 30 }       # optional: a device paused that long hands its messages to another of `devices`
/// ```
public enum CampaignLoader {
    static let topFields: Set = ["id", "userId", "name", "message", "recipients", "devices", "delay", "scheduledAt", "expiresAt", "reroute"]
    static let rerouteFields: Set = ["afterMinutes"]
    static let messageFields: Set = ["type", "text", "mediaUrl", "fileName", "greeting", "variation", "template"]
    static let delayFields: Set = ["min", "max"]

    public static func load(path: String, now: Date = Date()) throws(CampaignFileError) -> Campaign {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
        let url = URL(fileURLWithPath: path)
        return try parse(text, json: url.pathExtension.lowercased() == "json", baseDirectory: url.deletingLastPathComponent().path, now: now)
    }

    /// Parses campaign text; `recipients` is resolved against `baseDirectory`.
    public static func parse(_ text: String, json: Bool, baseDirectory: String, now: Date = Date()) throws(CampaignFileError) -> Campaign {
        let root = try ConfigValue.parse(text, json: json)
        var r = FieldReader()
        guard let top = r.mapping(root, "", known: topFields) else { throw .invalidFields(r.issues) }

        let id = r.string(top, "id", "")
        if let id {
            if id.count > Campaign.maxIdLength { r.fail("id", "is \(id.count) characters; the limit is \(Campaign.maxIdLength)") }
            if !id.unicodeScalars.allSatisfy(isIdCharacter) {
                r.fail("id", "may hold only letters, digits, '.', '_' and '-' (it becomes part of every message id), found \"\(id)\"")
            }
        }
        let userId = r.string(top, "userId", "")
        let name = r.string(top, "name", "")

        let message = r.mapping(top["message"], "message", known: messageFields)
        if top["message"] == nil { r.fail("message", "is required: type, text, and mediaUrl for media") }
        var content: BroadcastMessage.Content?
        var templateSources: [CampaignTemplate.Source] = []
        if let message {
            let typeText = r.string(message, "type", "message")
            let kind = typeText.flatMap { BroadcastMessage.Content.Kind(rawValue: $0.lowercased()) }
            if let typeText, kind == nil {
                r.fail("message.type", "must be one of \(BroadcastMessage.Content.Kind.allCases.map(\.rawValue).joined(separator: ", ")), found \"\(typeText)\"")
            }
            if kind == .template {
                for field in ["text", "mediaUrl", "fileName", "greeting", "variation"] where message[field] != nil {
                    r.fail("message.\(field)", "is not allowed for type template: the text is the approved template's; give parameters under message.template",
                           line: message[field]?.line)
                }
                if let (template, sources) = CampaignTemplate.read(message["template"], path: "message.template", into: &r) {
                    content = .template(template)
                    templateSources = sources
                }
            } else if message["template"] != nil {
                r.fail("message.template", "is only allowed with type: template", line: message["template"]?.line)
            }
            let body = kind == .template ? nil : r.string(message, "text", "message", required: kind == .text)
            let mediaUrl = r.string(message, "mediaUrl", "message", required: kind?.isMedia ?? false)
            let fileName = r.string(message, "fileName", "message", required: false)
            let greeting = r.flag(message, "greeting", "message")
            let variation = r.flag(message, "variation", "message")
            if let kind, kind != .template {
                content = .init(type: kind, text: body, mediaUrl: mediaUrl, fileName: fileName, greeting: greeting, variation: variation)
            }
        }

        let recipients = r.string(top, "recipients", "")
        let recipientsPath = recipients.map { resolve($0, against: baseDirectory) }
        if let recipientsPath, !FileManager.default.isReadableFile(atPath: recipientsPath) {
            r.fail("recipients", "cannot read \(recipientsPath): the path is relative to the campaign file")
        }

        let devices = r.stringList(top, "devices")
        if let devices {
            if devices.isEmpty { r.fail("devices", "must list at least one device id") }
            var seen: Set<String> = []
            for (index, device) in devices.enumerated() {
                if device.isEmpty || device.count > RecordLimits.maxIdLength || device.contains(where: \.isWhitespace) {
                    r.fail("devices[\(index)]", "must be a non-empty id of at most \(RecordLimits.maxIdLength) characters without spaces, found \"\(device)\"")
                }
                if !seen.insert(device).inserted { r.fail("devices[\(index)]", "\"\(device)\" is listed twice") }
            }
        }

        let delayMap = r.mapping(top["delay"], "delay", known: delayFields)
        if top["delay"] == nil { r.fail("delay", "is required: { min: SECONDS, max: SECONDS } between two sends of a device") }
        let minDelay = r.number(delayMap, "min", "delay")
        let maxDelay = r.number(delayMap, "max", "delay")
        for (field, value) in [("delay.min", minDelay), ("delay.max", maxDelay)] {
            if let value, !(0...RecordLimits.maxDelaySeconds).contains(value) {
                r.fail(field, "must be between 0 and \(Int(RecordLimits.maxDelaySeconds)) seconds, found \(value)")
            }
        }
        if let minDelay, let maxDelay, maxDelay < minDelay {
            r.fail("delay.max", "(\(maxDelay)) must not be less than delay.min (\(minDelay))")
        }

        let scheduledAt = r.date(top, "scheduledAt", required: true)
        let expiresAt = r.date(top, "expiresAt", required: false)
        var warnings: [String] = []
        if let scheduledAt, let expiresAt {
            if expiresAt <= scheduledAt { r.fail("expiresAt", "must be after scheduledAt") }
            if expiresAt <= now { warnings.append("expiresAt is in the past: workers will expire every message") }
        }

        var rerouteAfterSeconds: Double?
        if top["reroute"] != nil {
            let reroute = r.mapping(top["reroute"], "reroute", known: rerouteFields)
            let range = BroadcastMessage.Reroute.afterSecondsRange
            if let minutes = r.number(reroute, "afterMinutes", "reroute") {
                if range.contains(minutes * 60) { rerouteAfterSeconds = minutes * 60 } else {
                    r.fail("reroute.afterMinutes", "must be between \(Int(range.lowerBound / 60)) and \(Int(range.upperBound / 60)) minutes, found \(minutes)")
                }
            }
            if let devices, devices.count < 2 || devices.count > BroadcastMessage.Reroute.maxDevices {
                r.fail("reroute", "needs 2 to \(BroadcastMessage.Reroute.maxDevices) devices to move messages between (every message names them); this campaign has \(devices.count)")
            }
        }

        guard r.issues.isEmpty, let id, let userId, let name, let content, let recipientsPath, let devices,
              let minDelay, let maxDelay, let scheduledAt
        else { throw .invalidFields(r.issues) }

        var campaign = Campaign(
            id: id, userId: userId, name: name, content: content, recipientsPath: recipientsPath, devices: devices,
            delay: .init(minSeconds: minDelay, maxSeconds: maxDelay), scheduledAt: scheduledAt, expiresAt: expiresAt,
            warnings: warnings, templateSources: templateSources)
        campaign.rerouteAfterSeconds = rerouteAfterSeconds
        // The record contract has the last word (lengths, URL form): check a sample message against it.
        let contractIssues = contractIssues(of: campaign)
        if !contractIssues.isEmpty { throw .invalidFields(contractIssues) }
        return campaign
    }

    /// Problems the `broadcast.message.v1` rules find in a message of this campaign, with fields
    /// renamed to the campaign file's names.
    static func contractIssues(of campaign: Campaign) -> [FieldIssue] {
        let sample = BroadcastMessage(
            id: MessageID.make(campaignId: campaign.id, phone: "+12025550100"), userId: campaign.userId,
            deviceId: campaign.devices[0], source: .campaign, campaignId: campaign.id,
            recipient: .init(phone: "+12025550100"), content: campaign.content, delay: campaign.delay,
            scheduledAt: campaign.scheduledAt, expiresAt: campaign.expiresAt, createdAt: campaign.scheduledAt,
            reroute: campaign.reroute)
        do {
            try sample.validate()
            return []
        } catch {
            let names = [
                "content.text": "message.text", "content.mediaUrl": "message.mediaUrl", "content.fileName": "message.fileName",
                "content.template": "message.template", "content.template.name": "message.template.name",
                "content.template.language": "message.template.language",
                "delay.minSeconds": "delay.min", "delay.maxSeconds": "delay.max", "campaignId": "id", "deviceId": "devices",
            ]
            return error.issues.map { FieldIssue(field: names[$0.field] ?? $0.field, message: $0.message) }
        }
    }

    private static func resolve(_ path: String, against base: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return expanded }
        return URL(fileURLWithPath: base).appendingPathComponent(expanded).standardizedFileURL.path
    }

    private static func isIdCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "." || scalar == "_" || scalar == "-")
    }
}
